"""The dashboard's charts, drawn on the server as SVG with pygal: no script, served as images of this site.

Each SVG's response allows its own inline styles by their hashes, so no 'unsafe-inline' is needed anywhere.

Each chart shows figures that the page also gives as a table; the chart is for the eye, the table for everyone.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

# pygal adds an import hook for its map plugins (pygal.maps.*), unused here; it lacks find_spec, so Python
# warns on every import it sees after (and the tests turn warnings into errors). Take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, pygal.PluginImportFixer)]

# The site's own colours (dark enough against white for a bar or a line, 3:1 at least), and its type.
COLOURS = ("#1d4f91", "#d4351c", "#00703c", "#b35900", "#4c2c92", "#505a5f")
STYLE_OPTIONS: dict[str, Any] = {
    "background": "#ffffff",
    "plot_background": "#ffffff",
    "foreground": "#0b0c0c",
    "foreground_strong": "#0b0c0c",
    "foreground_subtle": "#505a5f",
    "opacity": "1",
    "opacity_hover": "1",
    "transition": "0s",
    "font_family": 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    "label_font_size": 18,  # drawn 800 wide and shown about 600: 18 reads as 13-14 px
    "major_label_font_size": 18,
    "legend_font_size": 18,
    "value_font_size": 15,
    "tooltip_font_size": 14,
    "no_data_font_size": 24,
}
STYLE = Style(**STYLE_OPTIONS, colors=COLOURS)
OPTIONS: dict[str, Any] = {
    "style": STYLE,
    "js": [],  # pygal's tooltips need a script from elsewhere: none here
    "width": 800,
    "height": 360,
    "explicit_size": True,  # width and height on the SVG: the page knows its shape before it loads
    "legend_at_bottom": True,
    "print_values": False,  # the table under each chart gives every figure; numbers on bars crowd and clash
    "margin": 12,
    "no_data_text": "Nothing to show for this period",
    "truncate_label": 40,
    "truncate_legend": 40,
}


@dataclass(frozen=True)
class Drawing:
    """A chart as an SVG document, and the CSP hashes ('sha256-...') of its inline styles, for its response."""

    svg: bytes
    style_hashes: tuple[str, ...]


def svg(chart: Any) -> Drawing:
    """Draw the chart, without the configuration script pygal always writes (unused here)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in [child for child in parent if child.tag == "script"]:
            parent.remove(child)
    hashes = tuple(
        "sha256-" + base64.b64encode(hashlib.sha256((style.text or "").encode()).digest()).decode()
        for style in tree.iter("style")
    )
    body: bytes = ElementTree.tostring(tree, encoding="utf-8", xml_declaration=False)
    return Drawing(b'<?xml version="1.0" encoding="utf-8"?>\n' + body, hashes)


def sized(narrow: bool) -> dict[str, Any]:
    """Return the options for a chart drawn for a wide screen, or narrower for a phone (the same type, larger)."""
    return {**OPTIONS, "width": 420, "truncate_legend": 24} if narrow else OPTIONS


def shorten(label: str, most: int) -> str:
    return label if len(label) <= most else label[: most - 1].rstrip() + "…"


def legend(series: dict[str, Any], height: int, narrow: bool = False) -> dict[str, Any]:
    """Return the legend's options: one column when a name is long, so no name runs into the next; room for it."""
    longest = max((len(name) for name in series), default=0)
    # pygal starts the legend under the plot, right of the labels: on a phone, one name a line.
    columns = 1 if narrow else max(1, min(len(series), 760 // (longest * 12 + 40)))  # up to 12 px a letter
    rows = -(-len(series) // columns) if len(series) > 1 else 0
    return {"show_legend": len(series) > 1, "legend_at_bottom_columns": columns, "height": height + 24 + 40 * rows}


def horizontal_bars(labels: Sequence[str], series: dict[str, Sequence[int | None]], narrow: bool = False) -> Drawing:
    """Draw bars across, one row per label, the first at the top (long labels stay readable)."""
    height = max(200, 80 + len(labels) * (22 + 20 * len(series)))
    fewer = {"x_labels_major_count": 4, "show_minor_x_labels": False} if narrow else {}  # numbers that fit
    chart = pygal.HorizontalBar(**{**sized(narrow), **legend(series, height, narrow), **fewer})
    shown = [shorten(label, 20) if narrow else label for label in labels]
    chart.x_labels = list(reversed(shown))  # pygal draws the first label at the bottom
    for name, values in series.items():
        chart.add(name, list(reversed(values)))
    return svg(chart)


def bars(
    labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    percent: bool = False,
    narrow: bool = False,
    colours: Sequence[str] = COLOURS,
) -> Drawing:
    """Draw upright bars, grouped by label (weeks, say), one colour per series (given, so a level keeps its own)."""
    style = Style(**STYLE_OPTIONS, colors=tuple(colours))
    chart = pygal.Bar(**{**sized(narrow), **legend(series, 340, narrow), "style": style})
    chart.x_labels = list(labels)
    if percent:
        chart.range = (0, 100)
        chart.value_formatter = lambda value: f"{value:.0f}%"
    for name, values in series.items():
        chart.add(name, list(values))
    return svg(chart)


def lines(labels: Sequence[str], series: dict[str, Sequence[int]], narrow: bool = False) -> Drawing:
    """Draw a line per series over days; only some days are labelled so the labels do not overlap."""
    chart = pygal.Line(
        **{**sized(narrow), **legend(series, 340, narrow)},
        x_labels_major_every=max(1, len(labels) // (3 if narrow else 7)),
        show_minor_x_labels=False,
        dots_size=3,
        x_label_rotation=0,
    )
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return svg(chart)
