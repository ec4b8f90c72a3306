"""CPU per request in one process, without gunicorn or wrk: the app's own cost beside a bare Flask app.

    python -m bench.inprocess [--requests 2000] [--profile PATH] [--breakdown]

Both apps are called through the same WSGI test client, in the production
configuration (limiter on in memory, one proxy hop, HTTPS, Secure cookies,
security headers), on an SQLite file. The question page carries a session with
every page answered. Prints µs of CPU (process time) per request, the median
of 5 rounds, and the share of hello world. With --profile, prints the 25
costliest functions of PATH (e.g. /questions/neck) by cumulative time. With
--breakdown, prints where the time of the question page, the start page and
the JSON assessment goes, by part (session, limiter, headers, view, ...).
Not a test: the figures depend on the machine. Much steadier than bench.load on
a busy machine, but it leaves out gunicorn and the network.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from bench import hello
from bench.visitor import CSRF_TOKEN
from examples import COMPLETE, page_posts

ENVIRON = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}


def production_app(folder: Path):  # type: ignore[no-untyped-def]
    from symptomcheck import create_app

    return create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}",
            "PROXY_HOPS": 1,
            "FORCE_HTTPS": True,
            "SESSION_COOKIE_SECURE": True,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def per_request_us(call: Callable[[], object], requests: int) -> float:
    """Return the median over 5 rounds of CPU µs per call."""
    rounds = []
    for _ in range(5):
        start = time.process_time()
        for _ in range(requests):
            call()
        rounds.append((time.process_time() - start) / requests * 1e6)
    return statistics.median(rounds)


def answered_client(app) -> FlaskClient:  # type: ignore[no-untyped-def]
    """Return a client whose session has every page answered, as a visitor's would."""
    client = app.test_client()
    client.environ_base.update(ENVIRON)
    for slug, form in page_posts(COMPLETE):
        path = f"/questions/{slug}"
        page = client.get(path, base_url="https://localhost").get_data(as_text=True)
        token = CSRF_TOKEN.search(page)
        assert token, f"no CSRF token on {path}"
        answered = client.post(path, data={**form, "csrf_token": token[1]}, base_url="https://localhost")
        assert answered.status_code == 302, (path, answered.status_code)
    return client


# Where a request's time goes, by part: (label, file ending, function name) of functions that do not call
# one another, so their cumulative times add up. What is left is Flask and Werkzeug's own request and response.
PARTS = (
    ("session: open (decrypt, check)", "web/sessions.py", "open_session"),
    ("session: save", "web/sessions.py", "save_session"),
    ("rate limiter (Flask-Limiter)", "flask_limiter/_extension.py", "_check_request_limit"),
    ("rate limiter (Flask-Limiter)", "web/security.py", "headers_if_counted"),
    ("security headers (Talisman)", "web/security.py", "_set_response_headers"),
    ("security headers (Talisman)", "flask_talisman/talisman.py", "_force_https"),
    ("NUL-byte check", "web/security.py", "refuse_nul_bytes"),
    ("staff session check", "staff/views.py", "end_ended_staff_sessions"),
    ("question page view", "patient/views.py", "question"),
    ("start page view", "patient/views.py", "start"),
    ("JSON view: body", "patient/api.py", "create_assessment"),
    ("response to WSGI (headers copied and checked)", "werkzeug/wrappers/response.py", "__call__"),
)


def breakdown(app, client: FlaskClient, requests: int) -> None:  # type: ignore[no-untyped-def]
    """Print, for three endpoints, the profiled µs per request of each part and its share of the app's time."""
    addresses = (f"192.0.{n // 250}.{n % 250}" for n in itertools.count())
    api = app.test_client()

    def assess() -> None:
        environ = {**ENVIRON, "HTTP_X_FORWARDED_FOR": next(addresses)}
        api.post("/api/v1/assessments", json={"answers": COMPLETE}, environ_base=environ, base_url="https://localhost")

    calls: dict[str, Callable[[], object]] = {
        "question page": lambda: client.get("/questions/neck", base_url="https://localhost"),
        "start page": lambda: client.get("/", base_url="https://localhost"),
        "JSON assessment": assess,
    }
    for label, call in calls.items():
        for _ in range(50):
            call()
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(requests):
            call()
        profile.disable()
        stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
        cumulative = {(path, name): entry[3] for (path, _, name), entry in stats.items()}
        whole = sum(time for (path, name), time in cumulative.items() if path.endswith("flask/app.py") and
                    name == "wsgi_app")  # fmt: skip
        parts: dict[str, float] = {}
        for part, ending, name in PARTS:
            spent = sum(time for (path, fn), time in cumulative.items() if path.endswith(ending) and fn == name)
            if spent:
                parts[part] = parts.get(part, 0.0) + spent
        print(f"\n{label}: {whole / requests * 1e6:.0f} µs per request under the profiler (the app's wsgi_app)")
        for part, spent in sorted(parts.items(), key=lambda item: -item[1]):
            print(f"  {part:48} {spent / requests * 1e6:6.0f} µs  {spent / whole:4.0%}")
        rest = whole - sum(parts.values())
        rest_label = "the rest: Flask and Werkzeug, request and contexts"
        print(f"  {rest_label:48} {rest / requests * 1e6:6.0f} µs  {rest / whole:4.0%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", metavar="PATH")
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    parser.add_argument("--breakdown", action="store_true", help="where each request's time goes, by part")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = production_app(Path(folder))
        client = answered_client(app)
        bare = hello.app.test_client()
        if options.breakdown:
            breakdown(app, client, options.requests)
            return
        if options.profile:
            response = client.get(options.profile, base_url="https://localhost")
            assert response.status_code == 200, response.status_code
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(options.requests):
                client.get(options.profile, base_url="https://localhost")
            profile.disable()
            pstats.Stats(profile).sort_stats(options.sort).print_stats(30)
            return
        base = per_request_us(lambda: bare.get("/"), options.requests)
        print(f"{'hello world':22} {base:8.0f} µs  100%")
        for label, path in (("start page", "/"), ("question page", "/questions/neck"), ("learn", "/learn")):
            response = client.get(path, base_url="https://localhost")
            assert response.status_code == 200, (path, response.status_code)
            cost = per_request_us(lambda p=path: client.get(p, base_url="https://localhost"), options.requests)
            print(f"{label:22} {cost:8.0f} µs  {base / cost:4.0%}")
        addresses = (f"198.51.{n // 250}.{n % 250}" for n in itertools.count())  # fresh ones: no limit is reached
        api = app.test_client()

        def assess() -> None:
            environ = {**ENVIRON, "HTTP_X_FORWARDED_FOR": next(addresses)}
            answered = api.post(
                "/api/v1/assessments", json={"answers": COMPLETE}, environ_base=environ, base_url="https://localhost"
            )
            assert answered.status_code == 200, answered.status_code

        cost = per_request_us(assess, options.requests)
        print(f"{'JSON assessment':22} {cost:8.0f} µs  {base / cost:4.0%}")


if __name__ == "__main__":
    main()
