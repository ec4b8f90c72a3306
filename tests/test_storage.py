"""The embedded database: several workers starting at once on a fresh SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, RULES_FILE

START_AND_REPORT = (
    "from symptomcheck import create_app; print(create_app({'SECRET_KEY': 'x'}).config['DATABASE_PROBLEM'])"
)


def test_workers_starting_together_on_a_fresh_file_all_find_it_migrated(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
        "SYMPTOMCHECK_RULES_FILE": str(RULES_FILE),
    }
    workers = [
        subprocess.Popen([sys.executable, "-c", START_AND_REPORT], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
        for _ in range(8)
    ]
    reports = [worker.communicate(timeout=60)[0].strip() for worker in workers]
    assert reports == ["None"] * 8
