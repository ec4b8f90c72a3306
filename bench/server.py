"""Run a WSGI app under gunicorn, with this project's gunicorn.conf.py, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "gunicorn.conf.py"


def free_port() -> int:
    """Return a loopback port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Poll the URL until the server answers; fail if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode} before it served {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (a loopback URL we built)
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not serve {url} within {seconds} s")


@contextmanager
def gunicorn(app: str, env: Mapping[str, str] | None = None, workers: int = 2) -> Iterator[str]:
    """Start `gunicorn -c gunicorn.conf.py APP` with 2 workers; yield its base URL; stop it."""
    port = free_port()
    environment = {
        **os.environ,
        "SYMPTOMCHECK_BIND": f"127.0.0.1:{port}",
        "SYMPTOMCHECK_WORKERS": str(workers),
        **(env or {}),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app]
    # Access lines go nowhere: the same cost for every app measured, and no noise.
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/", process)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
