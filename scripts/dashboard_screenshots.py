"""Save screenshots of the clinic's dashboard and monthly report on a seeded demo database, and a print of each.

    python -m scripts.dashboard_screenshots OUTDIR   (from the repository root)

Seeds a throwaway SQLite demo database (`flask demo seed --weeks 6`), logs in as an admin in Debian's
Chromium, and writes dashboard-WIDTH.png and report-WIDTH.png at 360 and 1280 px, report.pdf and
dashboard.pdf (Letter, as printed) report-print.png (the report with the print styles), and each section on its own.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from symptomcheck import create_app
from symptomcheck.records.models import Staff, db
from tests.browser import CHROMIUM, CHROMIUM_ARGS, serve
from tests.helpers import RULES_FILE

USERNAME, PASSWORD = "admin", "a long demo password"


def main(outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="symptomcheck-dashboard-") as folder:
        app = create_app(
            {
                "SECRET_KEY": "screenshots",
                "RULES_FILE": str(RULES_FILE),
                "DATABASE_URL": f"sqlite:///{Path(folder) / 'demo.db'}",
                "DEMO_DATABASE": True,
                "RATELIMIT_ENABLED": False,
            }
        )
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--weeks", "6"])
        print(result.output.strip())
        with app.app_context():
            admin = Staff(username=USERNAME, is_admin=True)
            admin.set_password(PASSWORD)
            db.session.add(admin)
            db.session.commit()
        with serve(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for width, height in ((360, 740), (1280, 800)):
                context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
                page = context.new_page()
                page.goto("/staff/login")
                page.get_by_label("Username").fill(USERNAME)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                for name, path in (("dashboard", "/staff/dashboard"), ("report", "/staff/dashboard/report")):
                    page.goto(path)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(outdir / f"{name}-{width}.png"), full_page=True)
                    for number, section in enumerate(page.locator("main section").all()):  # closer looks
                        section.screenshot(path=str(outdir / f"{name}-{width}-section{number + 1}.png"))
                    for figure in page.locator("main figure").all():
                        figure.screenshot(path=str(outdir / f"{name}-{width}-{figure.get_attribute('id')}.png"))
                    if width == 1280:
                        (outdir / f"{name}.pdf").write_bytes(page.pdf(format="Letter"))
                        if name == "report":
                            page.emulate_media(media="print")
                            page.set_viewport_size({"width": 768, "height": 1000})
                            page.screenshot(path=str(outdir / "report-print.png"), full_page=True)
                            page.emulate_media(media="screen")
                            page.set_viewport_size({"width": width, "height": height})
                context.close()
            browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m scripts.dashboard_screenshots OUTDIR")
    main(Path(sys.argv[1]))
