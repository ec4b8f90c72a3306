"""gunicorn as deployed: slow clients do not stop the site, and the access log has a time and cannot be forged."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bench.server import serve
from symptomcheck.web import logs

pytestmark = pytest.mark.load


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn with gunicorn.conf.py (2 workers), on SQLite, its access log in a file."""
    log = tmp_path / "access.log"
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'slow.db'}",
        "SYMPTOMCHECK_SECRET_KEY": "slow-clients",
        "SYMPTOMCHECK_ACCESS_LOG": str(log),
    }
    with serve("symptomcheck:create_app()", env) as running:
        yield running.base, log


def dribble(base: str, stop: threading.Event) -> None:
    """Send a request's headers one byte at a time, as a slow (or hostile) client does, until told to stop."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 500:
            if stop.is_set():
                return
            sock.send(bytes([byte]))
            time.sleep(0.2)


def test_two_slow_clients_do_not_stop_the_site(server: tuple[str, Path]) -> None:
    base, _ = server
    stop = threading.Event()
    slow = [threading.Thread(target=dribble, args=(base, stop)) for _ in range(2)]
    for client in slow:
        client.start()
    try:
        time.sleep(1.0)  # both slow clients are connected and sending
        for _ in range(5):  # answered while they dribble (sync workers answered only after gunicorn's 30 s timeout)
            with urllib.request.urlopen(base + "/", timeout=10) as response:  # noqa: S310 (loopback)
                assert response.status == 200
                assert b"Headache self-check" in response.read()
        assert all(client.is_alive() for client in slow)  # still sending: the site kept serving meanwhile
    finally:
        stop.set()
        for client in slow:
            client.join(timeout=5)


def test_the_access_log_has_a_time_and_escapes_control_characters(server: tuple[str, Path]) -> None:
    base, log = server
    for path in ("/", "/nothing%0A127.0.0.1%20[01/Jan/2026:00:00:00%20+0000]%20%22GET%20/staff/%22%20200"):
        try:
            urllib.request.urlopen(base + path, timeout=10).close()  # noqa: S310 (loopback)
        except urllib.error.HTTPError as error:
            error.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "/nothing" not in log.read_text():
        time.sleep(0.1)
    lines = log.read_text().splitlines()  # the server's start-up probe first, then these two
    assert len(lines) == 3, lines
    for line in lines:
        assert re.match(r'127\.0\.0\.1 \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET /', line), line
    assert "/nothing\\n127.0.0.1" in lines[2]
    assert '"GET /staff/' in lines[2]  # still inside the one line, not a line of its own


def test_app_log_lines_escape_control_characters(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        logging.getLogger("symptomcheck").error("Database error %s on %s %s", "OperationalError", "GET", "/a\nb\u202e")
    assert caplog.records[-1].getMessage() == "Database error OperationalError on GET /a\\nb\\u202e"
    assert logs.escape("plain text, ñ and 日本") == "plain text, ñ and 日本"
