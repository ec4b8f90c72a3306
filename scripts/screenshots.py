"""Save full-page screenshots of every patient page, at phone and desktop widths.

    python -m scripts.screenshots OUTDIR   (from the repository root)

Starts the app under werkzeug's HTTP server on a free port (with a throwaway
SQLite file), drives Debian's Chromium at /usr/bin/chromium through
Playwright, and writes NN-name-WIDTH.png files into OUTDIR, plus a Letter PDF
print of a routine result (result-routine.pdf) and a screenshot of that page
with the print styles (result-routine-print.png). Playwright never downloads
a browser here.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright

from examples import TO_EACH_LEVEL, reaching
from symptomcheck import create_app
from symptomcheck.patient.forms import NONE_OF_THESE, PAGES
from symptomcheck.rules.questions import BY_ID
from tests.browser import CHROMIUM, CHROMIUM_ARGS, click_label, fill_step, serve
from tests.helpers import RULES_FILE

WIDTHS = (360, 1280)
HEIGHT = {360: 740, 1280: 800}
PRINT_WIDTH = round((8.5 - 2 * 0.4) * 96)  # CSS pixels across a Letter page inside 0.4in margins


@contextmanager
def live_server() -> Iterator[str]:
    """Run the real app on a free port for as long as the block lasts."""
    with tempfile.TemporaryDirectory(prefix="symptomcheck-shots-") as folder:
        app = create_app(
            {
                "SECRET_KEY": "screenshots",
                "RULES_FILE": str(RULES_FILE),
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'shots.db'}",
            }
        )
        with serve(app) as base_url:
            yield base_url


def press_continue(page: Page) -> None:
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


class Shooter:
    """Save numbered full-page screenshots of one width and note what each page measures."""

    def __init__(self, outdir: Path, width: int) -> None:
        self.outdir, self.width, self.count = outdir, width, 0
        self.saved: list[str] = []

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        filename = f"{self.count:02d}-{name}-{self.width}.png"
        page.screenshot(path=self.outdir / filename, full_page=True)
        size = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        flag = "  <-- scrolls sideways" if size[0] > self.width else ""
        print(f"{filename:<45} {size[0]}x{size[1]}{flag}")
        self.saved.append(filename)


def journey(browser: Browser, base_url: str, width: int, shot: Shooter) -> Page:
    """Walk every page once, with the errors on the way; return the page showing the routine result."""
    options: dict[str, Any] = {"viewport": {"width": width, "height": HEIGHT[width]}, "base_url": base_url}
    if width < 600:
        options.update(is_mobile=True, has_touch=True)

    def new_page() -> Page:
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        return context.new_page()

    page = new_page()
    page.goto("/learn")
    shot(page, "learn")
    page.goto("/")
    shot(page, "start")
    page.get_by_role("link", name="Start now").click()
    shot(page, "about-you")
    press_continue(page)
    expect(page.locator(".error-summary")).to_be_visible()
    shot(page, "about-you-error")
    fill_step(page, PAGES[0], reaching("routine"))
    press_continue(page)
    shot(page, "warning-signs")
    fever = BY_ID["red_flags"].choice_label("fever")
    click_label(page, "red_flags", fever)
    click_label(page, "red_flags", NONE_OF_THESE)
    press_continue(page)
    expect(page.locator(".error-summary")).to_contain_text("Select only the signs you have")
    shot(page, "warning-signs-both-ticked")
    click_label(page, "red_flags", fever)  # untick the sign, keep "None of these"
    press_continue(page)
    for step in PAGES[2:]:
        expect(page).to_have_url(re.compile(f"/questions/{step.slug}$"))
        shot(page, step.slug)
        fill_step(page, step, reaching("routine"))
        press_continue(page)
    expect(page).to_have_url(re.compile("/check-answers$"))
    shot(page, "check-answers")
    page.get_by_role("link", name="See the result").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a regular visit.")
    shot(page, "result-routine")

    emergency = new_page()
    emergency.goto("/questions/about-you")
    fill_step(emergency, PAGES[0], reaching("routine"))
    press_continue(emergency)
    click_label(emergency, "red_flags", BY_ID["red_flags"].choice_label("thunderclap"))
    press_continue(emergency)
    expect(emergency).to_have_url(re.compile("/result$"))
    expect(emergency.get_by_role("heading", level=1)).to_have_text("Call 911 or go to the nearest emergency room now.")
    shot(emergency, "result-emergency")
    emergency.context.close()

    for level, (_, heading) in TO_EACH_LEVEL.items():
        if level == "routine":
            continue  # shot above, after the whole journey
        other = new_page()
        other.goto(f"/questions/{PAGES[0].slug}")
        answers = reaching(level)
        for step in PAGES:
            fill_step(other, step, answers)
            press_continue(other)
        other.get_by_role("link", name="See the result").click()
        expect(other.get_by_role("heading", level=1)).to_have_text(re.compile(f"^{re.escape(heading)}"))
        shot(other, f"result-{level}")
        other.context.close()

    missing = new_page()
    response = missing.goto("/questions/no-such-page")
    assert response is not None and response.status == 404
    shot(missing, "not-found")
    missing.context.close()
    return page


def pdf_pages(data: bytes) -> int:
    """Count the pages of a PDF written by Chromium (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", data))


def save_print(page: Page, outdir: Path) -> int:
    """Print the result page to a Letter PDF, and screenshot it with print styles; return the PDF's page count."""
    pdf = outdir / "result-routine.pdf"
    # Chrome's own "Save as PDF" puts about 0.4in around the page; Playwright's default is no margin at all.
    page.pdf(
        path=pdf,
        format="Letter",
        print_background=True,
        margin=dict.fromkeys(("top", "right", "bottom", "left"), "0.4in"),
    )
    pages = pdf_pages(pdf.read_bytes())
    print(f"{pdf.name:<45} {pages} page(s), Letter")
    # The printed text as one long sheet, at the width a Letter page leaves inside those margins.
    page.set_viewport_size({"width": PRINT_WIDTH, "height": 1056})
    page.emulate_media(media="print")
    page.screenshot(path=outdir / "result-routine-print.png", full_page=True)
    print("result-routine-print.png")
    return pages


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if not CHROMIUM.exists():
        print(f"Chromium is not installed at {CHROMIUM}; install Debian's chromium.", file=sys.stderr)
        return 1
    outdir = Path(argv[1])
    outdir.mkdir(parents=True, exist_ok=True)
    with live_server() as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width in WIDTHS:
                page = journey(browser, base_url, width, Shooter(outdir, width))
                if width == max(WIDTHS):
                    save_print(page, outdir)
                page.context.close()
        finally:
            browser.close()
    print(f"Saved in {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
