"""Lighthouse scores for three patient pages, in Debian's Chromium, against the live server.

Lighthouse (node_modules/.bin/lighthouse, from `npm ci`) runs with its defaults:
a mid-range phone on a simulated slow 4G link. The result page needs answers,
sent as a session cookie signed by the live app. Each run takes about ten
seconds. With SYMPTOMCHECK_LIGHTHOUSE_REPORT=path the scores are written there as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LEVEL_ANSWERS,
    LIGHTHOUSE,
    MISSING,
    require,
    require_node_tool,
    session_cookie,
)

pytest_plugins = ["tests.browser"]  # the live_app and live_server fixtures
pytestmark = [pytest.mark.browser, pytest.mark.lighthouse]

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
MINIMUM = {"performance": 90, "accessibility": 100, "best-practices": 100, "seo": 100}
# page: (path, answers in the session cookie)
PAGES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "start": ("/", None),
    "question-about-you": ("/questions/about-you", None),
    "result-routine": ("/result", LEVEL_ANSWERS["routine"]),
}


@pytest.fixture(scope="module")
def lighthouse_report() -> Iterator[dict[str, Any]]:
    """Collect each page's scores; write them to SYMPTOMCHECK_LIGHTHOUSE_REPORT, if set, when the module ends."""
    report: dict[str, Any] = {"pages": {}}
    yield report
    path = os.environ.get("SYMPTOMCHECK_LIGHTHOUSE_REPORT")
    if path and report["pages"]:
        Path(path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def lighthouse(url: str, headers: dict[str, str], folder: Path) -> dict[str, Any]:
    """Run Lighthouse on one URL; return its JSON report."""
    (folder / "headers.json").write_text(json.dumps(headers), encoding="utf-8")
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={folder / 'report.json'}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={' '.join(['--headless=new', *CHROMIUM_ARGS])}",
        f"--extra-headers={folder / 'headers.json'}",
        "--no-enable-error-reporting",
    ]
    # TMPDIR: Chrome's throwaway profile goes into the test's folder, which pytest removes, not into /tmp.
    environment = {**os.environ, "CHROME_PATH": str(CHROMIUM), "TMPDIR": str(folder)}
    try:
        ran = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Lighthouse did not finish in {exc.timeout} s on {url}", pytrace=False)
    assert ran.returncode == 0, f"Lighthouse failed on {url} ({ran.returncode}):\n{ran.stderr[-3000:]}"
    report: dict[str, Any] = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return report


def shortfalls(report: dict[str, Any]) -> list[str]:
    """The audits that cost points, in each category."""
    lost = []
    for category in report["categories"].values():
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
                lost.append(f"{category['id']}: {ref['id']} ({audit['score']}) {audit['title']}")
    return lost


@pytest.mark.parametrize("name", list(PAGES))
def test_lighthouse_scores(
    live_app: Flask, live_server: str, tmp_path: Path, lighthouse_report: dict[str, Any], name: str
) -> None:
    require(CHROMIUM.exists(), MISSING)
    require_node_tool(LIGHTHOUSE)
    path, answers = PAGES[name]
    headers = {"Accept-Language": "en-US,en"}  # the pages follow the browser's language
    if answers is not None:
        headers["Cookie"] = f"{live_app.config['SESSION_COOKIE_NAME']}={session_cookie(live_app, answers=answers)}"
    url = live_server + path
    report = lighthouse(url, headers, tmp_path)

    assert not report.get("runtimeError"), report["runtimeError"]
    assert report["finalDisplayedUrl"] == url, f"Lighthouse was sent on to {report['finalDisplayedUrl']}"
    scores = {key: round(100 * (report["categories"][key]["score"] or 0)) for key in CATEGORIES}
    lighthouse_report["lighthouse_version"] = report["lighthouseVersion"]
    lighthouse_report["pages"][name] = {"url": path, **scores, "lost_points": shortfalls(report)}
    low = {key: f"{scores[key]} < {MINIMUM[key]}" for key in CATEGORIES if scores[key] < MINIMUM[key]}
    assert not low, f"Lighthouse scores on {path}: {scores}; too low: {low}\n" + "\n".join(shortfalls(report))
