"""Throughput and latency under gunicorn (2 workers), driven by wrk, as ratios to a bare Flask app.

    python -m bench.load [--duration 10] [--connections 16] [--postgresql URL] [--skip-postgresql]

Runs, in one go: a "hello world" Flask app under the same gunicorn settings,
then the app on SQLite and on PostgreSQL, for the start page, a question page,
the JSON assessment and a contact request; then the bounded run (2,000
contact requests at concurrency 16, with the count of stored requests), the
bytes each patient page sends, and the engine's own time. Needs Debian's
`wrk` and the `[deploy]` extra. Rate limits are off: they would stop a load
tool at once. This is a benchmark, not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import engine
from bench.server import ROOT, gunicorn
from bench.visitor import PAGES, Visitor, send_contact_requests
from examples import COMPLETE
from symptomcheck import create_app
from symptomcheck.records.models import ContactRequest, db

LUA = Path(__file__).resolve().parent / "post.lua"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/symptomcheck_bench"
ANSWERS = COMPLETE
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Run:
    """What wrk measured for one endpoint."""

    name: str
    per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses and socket errors


def wrk(name: str, url: str, seconds: int, connections: int, **post: str) -> Run:
    """Drive one URL with wrk (a GET, or a POST when a body is given) and read its summary."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    env = dict(os.environ)
    if post:
        command[1:1] = ["-s", str(LUA)]
        env.update({f"BENCH_{key.upper()}": value for key, value in post.items()})
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout  # noqa: S603
    latency = {percent: float(value) * UNITS_MS[unit]
               for percent, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", output, re.M)}  # fmt: skip
    bad = sum(int(count) for count in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    bad += sum(int(count) for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Run(
        name=name,
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        bad=bad,
    )


def prepared(url: str) -> None:
    """Create the PostgreSQL database if it is missing; migrate the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [parsed.database]).fetchone():
                connection.execute(f'CREATE DATABASE "{parsed.database}"')
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "AUTO_MIGRATE": True})
    with app.app_context():
        db.engine.dispose()


def stored_requests(url: str) -> int:
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url})
    with app.app_context():
        count = db.session.query(ContactRequest).count()
        db.session.remove()
        db.engine.dispose()
    return count


def cookie_header(visitor: Visitor) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in visitor.cookies)


def app_runs(base: str, seconds: int, connections: int) -> list[Run]:
    """Measure the four endpoints of a running app."""
    visitor = Visitor(base)
    visitor.answer_everything()
    cookie = cookie_header(visitor)
    contact = urllib.parse.urlencode(visitor.contact_form())
    assessment = json.dumps({"answers": ANSWERS})
    return [
        wrk("start page", base + "/", seconds, connections),
        wrk("question page", base + "/questions/neck", seconds, connections, method="GET", cookie=cookie, body=""),
        wrk("JSON assessment", base + "/api/v1/assessments", seconds, connections,
            method="POST", body=assessment, type="application/json"),
        wrk("contact request", base + "/contact", seconds, connections,
            method="POST", body=contact, type="application/x-www-form-urlencoded", cookie=cookie),
    ]  # fmt: skip


def bounded_run(base: str, url: str, total: int = 2_000, concurrency: int = 16) -> str:
    """Send `total` contact requests from `concurrency` visitors; compare successes with stored rows."""
    before = stored_requests(url)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = sum(pool.map(send_contact_requests, [base] * concurrency, [total // concurrency] * concurrency),
                       Counter[int]())  # fmt: skip
    elapsed = time.perf_counter() - started
    stored = stored_requests(url) - before
    errors = sum(count for status, count in statuses.items() if status >= 500)
    return (f"{sum(statuses.values())} contact requests at concurrency {concurrency} in {elapsed:.1f} s "
            f"(after each visitor's 11 page loads): {statuses[302]} sent, {errors} 5xx, {stored} stored")  # fmt: skip


def page_weights(base: str) -> list[tuple[str, int]]:
    """Bytes on the wire (status line, headers and body) of each patient page, with its stylesheet and icon."""
    visitor = Visitor(base)
    assets = sum(visitor.wire_bytes(path) for path in ("/static/style.css", "/static/favicon.svg"))
    weights = [("start", visitor.wire_bytes("/") + assets)]
    for slug, answers in PAGES:
        weights.append((f"questions/{slug}", visitor.wire_bytes(f"/questions/{slug}") + assets))
        visitor.post_form(f"/questions/{slug}", answers)
    for path in ("/check-answers", "/result", "/contact"):
        weights.append((path.strip("/"), visitor.wire_bytes(path) + assets))
    return weights


def table(runs: list[Run], hello: Run) -> str:
    lines = ["| endpoint | requests/s | of hello world | p50 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    for run in runs:
        lines.append(f"| {run.name} | {run.per_second:,.0f} | {run.per_second / hello.per_second:.0%} "
                     f"| {run.p50_ms:.2f} | {run.p99_ms:.2f} | {run.bad} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--postgresql", default=DEFAULT_POSTGRESQL, help=f"database URL (default {DEFAULT_POSTGRESQL})")
    parser.add_argument("--skip-postgresql", action="store_true", help="measure SQLite only")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.load needs wrk: apt-get install wrk")

    print(f"gunicorn, 2 workers, {os.cpu_count()} cores; wrk -t2 -c{options.connections} -d{options.duration}s\n")
    with gunicorn("bench.hello:app") as base:
        hello = wrk("hello world", base + "/", options.duration, options.connections)
    print(table([hello], hello))
    env = {"SYMPTOMCHECK_SECRET_KEY": "bench-secret", "SYMPTOMCHECK_RATELIMIT_ENABLED": "false"}
    with tempfile.TemporaryDirectory() as folder:
        databases = {"SQLite": f"sqlite:///{Path(folder) / 'bench.db'}"}
        if not options.skip_postgresql:
            databases["PostgreSQL"] = options.postgresql
        for name, url in databases.items():
            prepared(url)
            with gunicorn("symptomcheck:create_app()", {**env, "DATABASE_URL": url}) as base:
                # The bounded run first: requests wrk leaves in flight would land in its count.
                bounded = bounded_run(base, url)
                print(f"\n{name}\n\n{table(app_runs(base, options.duration, options.connections), hello)}\n")
                print(f"Bounded run on {name}: {bounded}")
                if name == "SQLite":
                    weights = page_weights(base)
    print("\nBytes on the wire per patient page (HTML, stylesheet and icon, uncompressed):")
    for page, size in weights:
        print(f"  {page:<24} {size / 1024:5.1f} KB")
    print(f"  largest {max(size for _, size in weights) / 1024:.1f} KB, median "
          f"{statistics.median(size for _, size in weights) / 1024:.1f} KB\n")  # fmt: skip
    print("Engine alone:")
    engine.main(2_000)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
