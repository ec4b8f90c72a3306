"""Run a WSGI app under gunicorn, with this project's gunicorn.conf.py, on a loopback port it cannot lose.

The port is chosen by binding a socket to port 0 here and handing that very
socket to gunicorn (`fd://N`), so no other process can take it in between.
Start-up waits for every worker to report that it has loaded the app, then
polls the server with retries until a deadline: a slow start is waited for,
not a crash. The running server's processes can be read from /proc: CPU time
(utime + stime of the master and its workers) and each worker's resident memory.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = Path(__file__).resolve().parent / "gunicorn_conf.py"  # the project's settings, plus one hook
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_SECONDS = 120.0


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand back a redirect as it is: any answer means the server is up."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


PROBE = urllib.request.build_opener(NoRedirects())


def stat_fields(pid: int) -> list[str]:
    """Return the fields of /proc/PID/stat after the command name (the state is field 0)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a process has used, from /proc."""
    fields = stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """Return the ids of the live processes whose parent is PID."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = stat_fields(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """Return a process's resident memory (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass
class Server:
    """A running gunicorn: its base URL, its master process, and what its workers reported at start."""

    base: str
    process: subprocess.Popen[bytes]
    startup_cpu: list[float] = field(default_factory=list)  # seconds of CPU per worker to load the app
    ready_seconds: float = 0.0  # from launch to the first answer

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def cpu_seconds(self) -> float:
        """Return the CPU time used so far by the master and its live workers."""
        total = 0.0
        for pid in [self.process.pid, *self.workers()]:
            try:
                total += cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
        return total

    def worker_rss_mb(self) -> list[float]:
        return [rss_mb(pid) for pid in self.workers()]


def listening_socket() -> socket.socket:
    """Bind a loopback socket to a port the kernel picks, and listen on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def wait_for_workers(report: Path, workers: int, process: subprocess.Popen[bytes], deadline: float) -> list[float]:
    """Wait until every worker has written its start-up report; return their CPU seconds."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode} while its workers started")
        reports = list(report.glob("*.json"))
        if len(reports) >= workers:
            return [json.loads(path.read_text())["cpu_seconds"] for path in reports[:workers]]
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn's {workers} workers did not all start within {START_SECONDS:.0f} s")


def wait_until_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    """Poll the URL, with retries and longer waits each time, until it answers (below 500) or the deadline passes."""
    wait, problem = 0.05, "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode} before it served {url}")
        timeout = max(0.1, min(10.0, deadline - time.monotonic()))
        try:
            with PROBE.open(url, timeout=timeout) as response:
                response.read()
                return
        except urllib.error.HTTPError as error:
            with error:
                if error.code < 500:  # a redirect or a refusal is an answer too
                    return
                problem = f"status {error.code}"
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, half an answer
            problem = repr(error)
        time.sleep(wait)
        wait = min(wait * 2, 1.0)
    raise RuntimeError(f"gunicorn did not serve {url} in time (last: {problem})")


@contextmanager
def serve(app: str, env: Mapping[str, str] | None = None, workers: int = 2) -> Iterator[Server]:
    """Start `gunicorn -c gunicorn.conf.py APP` (2 workers by default) on a fresh port; yield it; stop it."""
    sock = listening_socket()
    port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as report:
        environment = {
            **os.environ,
            **(env or {}),
            "SYMPTOMCHECK_BIND": f"fd://{sock.fileno()}",
            "SYMPTOMCHECK_WORKERS": str(workers),
            "BENCH_STARTUP_REPORT": report,
        }
        command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app]
        launched = time.monotonic()
        deadline = launched + START_SECONDS
        # Access lines go nowhere: the same cost for every app measured, and no noise.
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, pass_fds=(sock.fileno(),)
        )
        sock.close()  # gunicorn holds the port now
        base = f"http://127.0.0.1:{port}"
        try:
            server = Server(base, process, wait_for_workers(Path(report), workers, process, deadline))
            wait_until_up(base + "/", process, deadline)
            server.ready_seconds = time.monotonic() - launched
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def gunicorn(app: str, env: Mapping[str, str] | None = None, workers: int = 2) -> Iterator[str]:
    """Start `gunicorn -c gunicorn.conf.py APP`; yield its base URL; stop it."""
    with serve(app, env, workers) as server:
        yield server.base
