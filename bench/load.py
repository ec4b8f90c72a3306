"""Throughput, CPU per request and latency under gunicorn (2 workers), driven by wrk, as shares of a bare Flask app.

    python -m bench.load [--quick] [--rounds 5] [--duration 8] [--connections 16]
                         [--postgresql URL] [--redis URL] [--sqlite] [--json FILE]

The app runs in its production configuration, behind a (simulated) reverse
proxy: SYMPTOMCHECK_PROXY_HOPS=1, FORCE_HTTPS and Secure session cookies, the
security headers, the rate limiter ON (in memory, and on Redis), PostgreSQL.
Every request carries X-Forwarded-Proto: https and an X-Forwarded-For client
address that changes every 8 requests and is never reused, so the limiter does
all its work (a count per address) and no address reaches a limit; a 429 would
show in the errors column. The question page and the contact request carry a
real session cookie (every page answered) and, for the post, its CSRF token.

A bare Flask "hello world" runs beside the apps under the same gunicorn
settings and the same wrk script. Measurements interleave: each round measures,
for each endpoint, hello world and then that endpoint on every configuration,
and each share is taken against the hello world of its own round. The median
and the spread (min-max) over the rounds are printed, for requests per second
and for CPU time per request: the utime + stime of gunicorn's master and
workers, read from /proc before and after each run, divided by the requests
wrk counted (and wrk's own, from its rusage). CPU per request is far less noisy
than throughput on a machine whose cores wrk and the workers share.

Also printed: each worker's resident memory after warm-up, the CPU time each
worker spent loading the app, the bounded run (2,000 contact requests at
concurrency 16, 320 with --quick, with the count of stored requests), the bytes each patient page
sends, the engine's own time, and which targets of issue 13 are met. Needs
Debian's `wrk`, the `[deploy]` extra, PostgreSQL and Redis. A full run stops by
itself in about 10 minutes, `--quick` in under 3. Not a test: the figures
depend on the machine.
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
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import engine
from bench.server import ROOT, Server, serve
from bench.visitor import PAGES, RUN_PREFIX, Visitor, send_contact_requests
from examples import COMPLETE
from symptomcheck import create_app
from symptomcheck.records.models import ContactRequest, db

LUA = Path(__file__).resolve().parent / "wrk.lua"
DEFAULT_POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/symptomcheck_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)  # seconds come with a trailing space
HELLO = "hello world"
# The app as it is deployed behind one reverse proxy (README, "Storage and deployment").
PRODUCTION = {
    "SYMPTOMCHECK_SECRET_KEY": "bench-secret",  # the same on both workers
    "SYMPTOMCHECK_PROXY_HOPS": "1",
    "SYMPTOMCHECK_FORCE_HTTPS": "true",
    "SYMPTOMCHECK_SESSION_COOKIE_SECURE": "true",
}
# Issue 13's targets: the least share of hello world, by CPU ratio and requests per second.
TARGETS = {"start page": 0.65, "question page": 0.50, "JSON assessment": 0.60, "contact request": 0.15}
P99_TARGET_MS = ("question page", 10.0)


@dataclass(frozen=True)
class Endpoint:
    """One request wrk repeats: a GET, or a POST with a body."""

    name: str
    path: str
    method: str = "GET"
    body: str = ""
    type: str = ""
    cookie: str = ""
    referer: str = ""


@dataclass(frozen=True)
class Run:
    """What one wrk run measured."""

    name: str
    per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses (a 429 included) and socket errors
    server_cpu_s: float  # gunicorn master + workers, from /proc
    wrk_cpu_s: float

    @property
    def server_us(self) -> float:
        return self.server_cpu_s / self.requests * 1e6

    @property
    def wrk_us(self) -> float:
        return self.wrk_cpu_s / self.requests * 1e6


@dataclass
class Config:
    """One configuration of the app under test, and its runs paired with their round's hello world."""

    name: str
    env: dict[str, str]
    database: str
    server: Server | None = None
    endpoints: list[Endpoint] = field(default_factory=list)
    pairs: dict[str, list[tuple[Run, Run]]] = field(default_factory=dict)  # endpoint: [(run, hello)] per round
    rss_mb: list[float] = field(default_factory=list)


_runs = iter(range(1, 1 << 16))


def wrk(server: Server, endpoint: Endpoint, seconds: int, connections: int) -> Run:
    """Drive one endpoint with wrk; read its summary, its CPU (rusage) and the server's CPU (/proc)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", "-s", str(LUA)]
    env = {
        **os.environ,
        "BENCH_RUN": f"{RUN_PREFIX:x}:{next(_runs):x}",
        "BENCH_METHOD": endpoint.method,
        "BENCH_BODY": endpoint.body,
        "BENCH_TYPE": endpoint.type,
        "BENCH_COOKIE": endpoint.cookie,
        "BENCH_REFERER": endpoint.referer,
    }
    before = server.cpu_seconds()
    process = subprocess.Popen([*command, server.base + endpoint.path], env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    watchdog = threading.Timer(seconds + 30, process.kill)  # wrk stops itself; this is in case it does not
    watchdog.start()
    try:
        output = process.stdout.read() if process.stdout else ""
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    server_cpu = server.cpu_seconds() - before
    if process.returncode:
        raise RuntimeError(f"wrk exited with {process.returncode} on {endpoint.name}:\n{output}")
    latency = {percent: float(value) * UNITS_MS[unit] for percent, value, unit in PERCENTILE.findall(output)}
    bad = sum(int(count) for count in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    bad += sum(int(count) for count in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return Run(
        name=endpoint.name,
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        bad=bad,
        server_cpu_s=server_cpu,
        wrk_cpu_s=usage.ru_utime + usage.ru_stime,
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


def app_endpoints(base: str) -> list[Endpoint]:
    """Return the four endpoints, with a real session (every page answered) for the two that need one."""
    visitor = Visitor(base, behind_proxy=True)
    visitor.answer_everything()
    cookie = "; ".join(f"{cookie.name}={cookie.value}" for cookie in visitor.cookies)
    # Without its one-time token, so that each of wrk's posts stores a new request (the same token would find one).
    contact = urllib.parse.urlencode({k: v for k, v in visitor.contact_form().items() if k != "submission"})
    host = urllib.parse.urlsplit(base).netloc
    return [
        Endpoint("start page", "/"),
        Endpoint("question page", "/questions/neck", cookie=cookie),
        Endpoint("JSON assessment", "/api/v1/assessments", "POST", json.dumps({"answers": COMPLETE}),
                 "application/json"),
        Endpoint("contact request", "/contact", "POST", contact, "application/x-www-form-urlencoded", cookie,
                 f"https://{host}/contact"),
    ]  # fmt: skip


def bounded_run(base: str, url: str, total: int = 2_000, concurrency: int = 16) -> str:
    """Send `total` contact requests from `concurrency` visitors; compare successes with stored rows."""
    before = stored_requests(url)
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        statuses = sum(pool.map(send_contact_requests, [base] * concurrency, [total // concurrency] * concurrency,
                                [True] * concurrency), Counter[int]())  # fmt: skip
    elapsed = time.perf_counter() - started
    stored = stored_requests(url) - before
    errors = sum(count for status, count in statuses.items() if status >= 500)
    return (f"{sum(statuses.values())} contact requests at concurrency {concurrency} in {elapsed:.1f} s "
            f"(after each visitor's 11 page loads): {statuses[302]} sent, {statuses[429]} limited, {errors} 5xx, "
            f"{stored} stored")  # fmt: skip


def page_weights(base: str) -> list[tuple[str, int]]:
    """Bytes on the wire (status line, headers and body) of each patient page, with its stylesheet and icon."""
    visitor = Visitor(base, behind_proxy=True)
    assets = sum(visitor.wire_bytes(path) for path in ("/static/style.css", "/static/favicon.svg"))
    weights = [("start", visitor.wire_bytes("/") + assets)]
    for slug, answers in PAGES:
        weights.append((f"questions/{slug}", visitor.wire_bytes(f"/questions/{slug}") + assets))
        visitor.post_form(f"/questions/{slug}", answers)
    for path in ("/check-answers", "/result", "/contact"):
        weights.append((path.strip("/"), visitor.wire_bytes(path) + assets))
    return weights


def spread(values: Iterator[float] | list[float], form: str) -> str:
    """Format the median and the range of some values: `median (min-max)`."""
    values = list(values)
    return f"{format(statistics.median(values), form)} ({format(min(values), form)}-{format(max(values), form)})"


def shares(pairs: list[tuple[Run, Run]]) -> tuple[list[float], list[float]]:
    """Return, per round, the share of hello world by requests per second and by CPU per request."""
    by_rate = [run.per_second / hello.per_second for run, hello in pairs]
    by_cpu = [hello.server_us / run.server_us for run, hello in pairs]
    return by_rate, by_cpu


def table(config: Config, hellos: list[Run]) -> str:
    lines = [
        "| endpoint | requests/s | share by req/s | worker CPU µs/req | share by CPU | wrk CPU µs/req "
        "| p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {HELLO} (bare Flask) | {spread([r.per_second for r in hellos], ',.0f')} | 100% "
        f"| {spread([r.server_us for r in hellos], '.0f')} | 100% | {spread([r.wrk_us for r in hellos], '.0f')} "
        f"| {statistics.median(r.p50_ms for r in hellos):.2f} | {statistics.median(r.p99_ms for r in hellos):.2f} "
        f"| {sum(r.bad for r in hellos)} |",
    ]
    for name, pairs in config.pairs.items():
        runs = [run for run, _ in pairs]
        by_rate, by_cpu = shares(pairs)
        lines.append(
            f"| {name} | {spread([r.per_second for r in runs], ',.0f')} | {spread(by_rate, '.0%')} "
            f"| {spread([r.server_us for r in runs], '.0f')} | {spread(by_cpu, '.0%')} "
            f"| {spread([r.wrk_us for r in runs], '.0f')} | {statistics.median(r.p50_ms for r in runs):.2f} "
            f"| {spread([r.p99_ms for r in runs], '.2f')} | {sum(r.bad for r in runs)} |"
        )
    return "\n".join(lines)


def verdicts(config: Config) -> list[str]:
    """Say, for each target of issue 13, whether the median of this configuration meets it."""
    lines = []
    for name, target in TARGETS.items():
        by_rate, by_cpu = shares(config.pairs[name])
        rate, cpu = statistics.median(by_rate), statistics.median(by_cpu)
        met = "met" if min(rate, cpu) >= target else "NOT met"
        lines.append(f"  {name} >= {target:.0%} of hello world: {met} (req/s {rate:.0%}, CPU {cpu:.0%})")
    name, limit = P99_TARGET_MS
    p99 = statistics.median(run.p99_ms for run, _ in config.pairs[name])
    lines.append(f"  p99 of the {name} < {limit:.0f} ms: {'met' if p99 < limit else 'NOT met'} ({p99:.2f} ms)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 rounds of 3 s, a bounded run of 320: under 3 minutes")
    parser.add_argument("--rounds", type=int, help="rounds of interleaved runs (default 5; 3 with --quick)")
    parser.add_argument("--duration", type=int, help="seconds per run (default 8; 3 with --quick)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--postgresql", default=DEFAULT_POSTGRESQL, help=f"database URL (default {DEFAULT_POSTGRESQL})")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help=f"rate-limit storage (default {DEFAULT_REDIS})")
    parser.add_argument("--sqlite", action="store_true", help="also measure the app on SQLite (limiter in memory)")
    parser.add_argument("--json", type=Path, help="also write every run's figures to this file")
    options = parser.parse_args()
    rounds = options.rounds or (3 if options.quick else 5)
    seconds = options.duration or (3 if options.quick else 8)
    warmup = 1 if options.quick else 2
    if not shutil.which("wrk"):
        sys.exit("bench.load needs wrk: apt-get install wrk")
    started = time.monotonic()

    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        configs = [
            Config("PostgreSQL, limiter in memory", {"SYMPTOMCHECK_RATELIMIT_STORAGE_URI": "memory://"},
                   options.postgresql),
            Config("PostgreSQL, limiter on Redis", {"SYMPTOMCHECK_RATELIMIT_STORAGE_URI": options.redis},
                   options.postgresql),
        ]  # fmt: skip
        if options.sqlite:
            configs.append(Config("SQLite, limiter in memory", {}, f"sqlite:///{Path(folder) / 'bench.db'}"))
        for url in {config.database for config in configs}:
            prepared(url)
        hello_server = stack.enter_context(serve("bench.hello:app"))
        for config in configs:
            env = {**PRODUCTION, **config.env, "DATABASE_URL": config.database}
            config.server = stack.enter_context(serve("symptomcheck:create_app()", env))
            config.endpoints = app_endpoints(config.server.base)
        production = configs[1]
        assert production.server
        print(f"gunicorn, 2 workers each, {os.cpu_count()} cores; wrk -t2 -c{options.connections}; {rounds} rounds "
              f"of {seconds} s per run, interleaved; limiter on, behind a proxy (PROXY_HOPS=1)\n")  # fmt: skip
        # The bounded run first: requests wrk leaves in flight would land in its count.
        bounded = bounded_run(production.server.base, production.database, 320 if options.quick else 2_000)
        print(f"Bounded run ({production.name}): {bounded}\n")

        hello_endpoint = Endpoint(HELLO, "/")
        for config in [None, *configs]:  # warm up: templates compiled, pools filled, every worker busy once
            server = config.server if config else hello_server
            assert server
            for endpoint in config.endpoints if config else [hello_endpoint]:
                wrk(server, endpoint, warmup, options.connections)
            if config:
                config.rss_mb = server.worker_rss_mb()
        hellos: list[Run] = []
        for number in range(1, rounds + 1):
            for index, name in enumerate(TARGETS):
                hello = wrk(hello_server, hello_endpoint, seconds, options.connections)
                hellos.append(hello)
                for config in configs:
                    assert config.server
                    run = wrk(config.server, config.endpoints[index], seconds, options.connections)
                    config.pairs.setdefault(name, []).append((run, hello))
            print(f"round {number} of {rounds} done at {time.monotonic() - started:.0f} s", file=sys.stderr)
        weights = page_weights(production.server.base)
        final_rss = {config.name: config.server.worker_rss_mb() for config in configs if config.server}

    for config in configs:
        print(f"{config.name}: median (min-max) over {rounds} rounds, shares within each round\n")
        print(table(config, hellos) + "\n")
    print("Workers: resident memory (VmRSS) after warm-up and at the end; CPU time to load the app, per worker")
    print(f"  {HELLO}: start-up CPU {spread(hello_server.startup_cpu, '.2f')} s, "
          f"ready in {hello_server.ready_seconds:.1f} s")  # fmt: skip
    for config in configs:
        assert config.server
        print(f"  {config.name}: RSS after warm-up {spread(config.rss_mb, '.0f')} MB, at the end "
              f"{spread(final_rss[config.name], '.0f')} MB; start-up CPU {spread(config.server.startup_cpu, '.2f')} s, "
              f"ready in {config.server.ready_seconds:.1f} s")  # fmt: skip
    print("\nBytes on the wire per patient page (HTML, stylesheet and icon, uncompressed):")
    for page, size in weights:
        print(f"  {page:<24} {size / 1024:5.1f} KB")
    print(f"  largest {max(size for _, size in weights) / 1024:.1f} KB, median "
          f"{statistics.median(size for _, size in weights) / 1024:.1f} KB\n")  # fmt: skip
    for config in configs:
        print(f"Targets of issue 13, {config.name}:")
        print("\n".join(verdicts(config)))
    print("\nEngine alone:")
    engine.main(2_000)
    print(f"\nbench.load took {time.monotonic() - started:.0f} s")
    if options.json:
        options.json.write_text(json.dumps({
            "hello": [asdict(run) for run in hellos],
            "configs": {config.name: {
                "runs": {name: [asdict(run) for run, _ in pairs] for name, pairs in config.pairs.items()},
                "rss_mb_after_warmup": config.rss_mb, "rss_mb_at_end": final_rss[config.name],
                "startup_cpu_s": config.server.startup_cpu if config.server else [],
            } for config in configs},
            "hello_startup_cpu_s": hello_server.startup_cpu,
            "bounded": bounded,
        }, indent=1))  # fmt: skip


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
