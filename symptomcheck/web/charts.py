"""The dashboard's charts, drawn on the server as SVG with pygal: no script, served as images of this site.

Each chart shows figures that the page also gives as a table; the chart is for the eye, the table for everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pygal
from pygal.style import Style

# The site's own colours (dark enough against white for a bar or a line, 3:1 at least), and its type.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#0b0c0c",
    foreground_strong="#0b0c0c",
    foreground_subtle="#505a5f",
    opacity="1",
    opacity_hover="1",
    transition="0s",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    colors=("#1d4f91", "#d4351c", "#00703c", "#b35900", "#4c2c92", "#505a5f"),
    label_font_size=15,
    major_label_font_size=15,
    legend_font_size=16,
    value_font_size=15,
    tooltip_font_size=14,
    no_data_font_size=24,
)
OPTIONS: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # pygal's tooltips need a script from elsewhere: none here
    "width": 800,
    "height": 360,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "print_values": True,
    "print_zeroes": False,
    "margin": 12,
    "no_data_text": "Nothing to show for this period",
    "truncate_label": 40,
    "truncate_legend": 40,
}


def svg(chart: Any) -> bytes:
    rendered: bytes = chart.render()
    return rendered


def horizontal_bars(labels: Sequence[str], series: dict[str, Sequence[int | None]], percent: bool = False) -> bytes:
    """Draw bars across, one row per label (long labels stay readable), one colour per series."""
    options = {**OPTIONS, "height": max(240, 90 + 44 * len(labels) * max(1, len(series) // 2))}
    chart = pygal.HorizontalBar(**options, show_legend=len(series) > 1)
    chart.x_labels = list(labels)
    if percent:
        chart.range = (0, 100)
        chart.value_formatter = lambda value: f"{value:.0f}%"
    for name, values in series.items():
        chart.add(name, list(values))
    return svg(chart)


def bars(labels: Sequence[str], series: dict[str, Sequence[float | None]], percent: bool = False) -> bytes:
    """Draw upright bars, grouped by label (weeks, say), one colour per series."""
    chart = pygal.Bar(**OPTIONS, show_legend=len(series) > 1)
    chart.x_labels = list(labels)
    if percent:
        chart.range = (0, 100)
        chart.value_formatter = lambda value: f"{value:.0f}%"
    for name, values in series.items():
        chart.add(name, list(values))
    return svg(chart)


def lines(labels: Sequence[str], series: dict[str, Sequence[int]]) -> bytes:
    """Draw a line per series over days; only some days are labelled so the labels do not overlap."""
    chart = pygal.Line(
        **{**OPTIONS, "print_values": False},
        show_legend=len(series) > 1,
        x_labels_major_every=max(1, len(labels) // 7),
        show_minor_x_labels=False,
        dots_size=3,
        x_label_rotation=0,
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return svg(chart)
