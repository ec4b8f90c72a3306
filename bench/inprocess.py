"""CPU per request in one process, without gunicorn or wrk: the app's own cost beside a bare Flask app.

    python -m bench.inprocess [--requests 2000] [--profile PATH]

Both apps are called through the same WSGI test client, in the production
configuration (limiter on in memory, one proxy hop, HTTPS, Secure cookies,
security headers), on an SQLite file. The question page carries a session with
every page answered. Prints µs of CPU (process time) per request, the median
of 5 rounds, and the share of hello world. With --profile, prints the 25
costliest functions of PATH (e.g. /questions/neck) by cumulative time.
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", metavar="PATH")
    parser.add_argument("--sort", default="cumulative", help="cumulative or tottime")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = production_app(Path(folder))
        client = answered_client(app)
        bare = hello.app.test_client()
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
