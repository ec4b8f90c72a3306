"""Security headers on every route, cookies, the proxy setting and rate limits."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import Headers

from examples import COMPLETE, page_posts
from tests.helpers import check_page, text_of
from tests.test_journey import Patient

REQUIRED_CSP = ("default-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
                "frame-ancestors 'none'")  # fmt: skip


def every_get_url(app: Flask) -> list[str]:
    """Walk the URL map: every GET route, with a made-up value for each argument."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        url = rule.rule.replace("<slug>", "about-you").replace("<reference>", "AAAA-BBBB").replace("<code>", "es")
        url = url.replace("<name>", "journey")  # a dashboard chart
        url = url.replace("<path:filename>", "style.css")
        assert "<" not in url, f"add a value for {rule.rule}"
        urls.append(url)
    return urls


def test_every_route_sends_the_security_headers(app: Flask) -> None:
    client = app.test_client()
    urls = every_get_url(app)
    assert len(urls) >= 14
    for url in urls:
        with client.get(url) as response:
            headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        assert all(part in policy for part in REQUIRED_CSP), url
        assert "unsafe-inline" not in policy
        assert "http" not in policy  # no third-party sources
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "no-referrer", url
        assert "camera=()" in headers["Permissions-Policy"], url
        assert headers["X-Frame-Options"] == "DENY", url
        if not url.startswith("/static/"):
            assert headers["Cache-Control"] == "no-store", url


def test_hsts_is_sent_over_https_only(make_app: Callable[..., Flask]) -> None:
    client = make_app(PUBLIC_URL="https://clinic.example").test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://clinic.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")


def test_session_cookie_flags(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    cookie = Patient(client).submit("/questions/about-you", {"age_band": "18_49"}).headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # local http by default
    secure = make_app(SESSION_COOKIE_SECURE=True, PUBLIC_URL="https://clinic.example").test_client()
    cookie = secure.get("/questions/about-you", base_url="https://clinic.example").headers["Set-Cookie"]
    assert "Secure" in cookie


def test_behind_a_proxy_the_scheme_and_address_come_from_it(make_app: Callable[..., Flask]) -> None:
    app = make_app(PROXY_HOPS=1, FORCE_HTTPS=True, PUBLIC_URL="https://clinic.example")
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Host": "clinic.example"}
    response = client.get("/", headers=forwarded)
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    plain = client.get("/", headers={"X-Forwarded-For": "203.0.113.7"})
    assert plain.status_code == 302
    assert plain.location == "https://localhost/"


def test_contact_requests_are_rate_limited(make_app: Callable[..., Flask]) -> None:
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    statuses = [client.post("/contact", data={}).status_code for _ in range(11)]
    assert statuses == [302] * 11  # no answers yet: sent back to the first question; nothing stored, nothing counted
    for slug, fields in page_posts(COMPLETE):
        assert client.post(f"/questions/{slug}", data=fields).status_code == 302
    contact = {"name": "A", "phone": "202 555 0143", "email": "", "preferred_time": "any", "consent": "y"}
    statuses = [client.post("/contact", data=contact).status_code for _ in range(11)]
    assert statuses == [302] * 10 + [429]
    assert "Too many tries" in text_of(check_page(client.post("/contact", data=contact).data))


def test_the_assessment_api_is_rate_limited(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    answers: dict[str, Any] = {"answers": {"age_band": "18_49", "red_flags": ["thunderclap"]}}
    statuses = [client.post("/api/v1/assessments", json=answers).status_code for _ in range(61)]
    assert statuses.count(200) == 60
    assert statuses[-1] == 429
    assert client.post("/api/v1/assessments", json=answers).is_json


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_staff_logins_are_rate_limited_per_address(make_app: Callable[..., Flask], storage: str) -> None:
    if storage.startswith("redis"):
        import redis

        try:
            redis.Redis.from_url(storage).flushdb()
        except redis.exceptions.ConnectionError:
            pytest.skip("no Redis at 127.0.0.1:6379")
    client = make_app(RATELIMIT_STORAGE_URI=storage, WTF_CSRF_ENABLED=False).test_client()
    # Each post a different name and no password: the form fails, so no lockout of a name or an address counts
    # them and only the request limit can answer 429 (one name would meet the per-name lockout first).
    statuses = [client.post("/staff/login", data={"username": f"x{number}"}).status_code for number in range(21)]
    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    assert "Too many failed tries" not in client.post("/staff/login", data={}).get_data(as_text=True)


def observatory_score(headers: Any, cookies: list[str]) -> tuple[int, list[str]]:
    """Score a response's headers the way the Mozilla HTTP Observatory does (start at 100; A+ is 100+).

    The modifiers are the Observatory's for each test; only the outcomes this
    site can produce are listed, and anything else counts as the worst case.
    """
    score, notes = 100, []
    policy = headers.get("Content-Security-Policy", "")
    directives = dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip())
    if not policy:
        score, notes = score - 25, [*notes, "csp-not-implemented"]
    elif "'unsafe-inline'" in policy or "'unsafe-eval'" in policy:
        score, notes = score - 20, [*notes, "csp-implemented-with-unsafe"]
    elif directives.get("default-src") == "'none'":
        score, notes = score + 10, [*notes, "csp-implemented-with-no-unsafe-default-src-none"]
    else:
        score, notes = score + 5, [*notes, "csp-implemented-with-no-unsafe"]
    if cookies:
        if not all("Secure" in cookie for cookie in cookies):
            score, notes = score - 20, [*notes, "cookies-without-secure-flag"]
        elif all("HttpOnly" in cookie for cookie in cookies) and all("SameSite" in cookie for cookie in cookies):
            score, notes = score + 5, [*notes, "cookies-secure-with-httponly-sessionid-and-samesite"]
    if headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }:
        score, notes = score + 5, [*notes, "referrer-policy-private"]
    hsts = headers.get("Strict-Transport-Security", "")
    max_age = int(hsts.split("max-age=")[1].split(";")[0]) if "max-age=" in hsts else 0
    if max_age < 15768000:
        score, notes = score - 20, [*notes, "hsts-not-implemented-or-short"]
    if headers.get("X-Content-Type-Options") != "nosniff":
        score, notes = score - 5, [*notes, "x-content-type-options-not-implemented"]
    if directives.get("frame-ancestors") in {"'none'", "'self'"}:
        score, notes = score + 5, [*notes, "x-frame-options-implemented-via-csp"]
    elif headers.get("X-Frame-Options") not in {"DENY", "SAMEORIGIN"}:
        score, notes = score - 20, [*notes, "x-frame-options-not-implemented"]
    return score, notes


def test_the_header_set_scores_a_plus_on_the_observatory_scale(make_app: Callable[..., Flask]) -> None:
    client = make_app(SESSION_COOKIE_SECURE=True, PUBLIC_URL="https://clinic.example").test_client()
    for url in ("/", "/questions/about-you", "/staff/login", "/api/v1/assessments"):
        response = client.get(url, base_url="https://clinic.example")
        cookies = response.headers.getlist("Set-Cookie")
        score, notes = observatory_score(response.headers, cookies)
        assert score >= 100, (url, score, notes)
        assert "csp-implemented-with-no-unsafe" in notes


def test_the_observatory_scorer_can_fail() -> None:
    assert observatory_score({}, ["session=1"])[0] < 100
    assert observatory_score({"Content-Security-Policy": "default-src 'self' 'unsafe-inline'"}, [])[0] < 100


def test_the_in_memory_limit_store_sweeps_at_most_once_a_second_and_still_expires_counts() -> None:
    from limits.storage import storage_from_string

    from symptomcheck.web.security import SteadyMemoryStorage

    store = storage_from_string("memory://")
    assert isinstance(store, SteadyMemoryStorage)  # what RATELIMIT_STORAGE_URI="memory://" gets
    store.incr("address", expiry=60)
    sweeper = store.timer
    for _ in range(5):
        time.sleep(0.02)  # past the 10 ms after which limits' own store starts a new sweep thread
        store.incr("address", expiry=60)
    assert store.timer is sweeper
    assert store.get("address") == 6
    store.incr("brief", expiry=0.05)
    time.sleep(0.1)
    assert store.get("brief") == 0  # an expired count is gone when read, sweep or not


@pytest.mark.parametrize("path", ["/", "/staff", "/fhir/Questionnaire/cervicogenic-headache-self-check"])
def test_a_host_not_trusted_is_refused_and_never_reflected(make_app: Callable[..., Flask], path: str) -> None:
    client = make_app(PUBLIC_URL="https://check.example-clinic.org", FORCE_HTTPS=True).test_client()
    for headers in ({"Host": "evil.example"}, {"Host": "check.example-clinic.org.evil.example"}):
        response = client.get(path, headers=headers)
        assert response.status_code == 400
        assert "evil" not in response.headers.get("Location", "")
        assert b"evil" not in response.data
        assert response.headers["Cache-Control"] == "no-store"
    proxied = make_app(PROXY_HOPS=1, PUBLIC_URL="https://check.example-clinic.org").test_client()
    response = proxied.get(path, headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
    assert response.status_code == 400
    trusted = client.get(path, base_url="https://check.example-clinic.org")
    assert trusted.status_code in {200, 302, 308}
    assert "evil" not in trusted.headers.get("Location", "")


def test_the_fhir_questionnaire_url_is_the_canonical_one(make_app: Callable[..., Flask]) -> None:
    client = make_app(PUBLIC_URL="https://check.example-clinic.org/").test_client()
    for base in ("http://localhost", "http://127.0.0.1:8000"):
        body = client.get("/fhir/Questionnaire/cervicogenic-headache-self-check", base_url=base).get_json()
        assert body["url"] == "https://check.example-clinic.org/fhir/Questionnaire/cervicogenic-headache-self-check"


def test_trusted_hosts_can_be_listed(make_app: Callable[..., Flask]) -> None:
    client = make_app(TRUSTED_HOSTS="a.example, .b.example").test_client()
    assert client.get("/", base_url="http://a.example").status_code == 200
    assert client.get("/", base_url="http://www.b.example").status_code == 200
    assert client.get("/", base_url="http://localhost").status_code == 400


def test_the_contact_form_needs_its_csrf_token(make_app: Callable[..., Flask]) -> None:
    from symptomcheck.records.models import ContactRequest
    from tests.helpers import detached_rows

    app = make_app()
    client = app.test_client()
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    contact = {"name": "Ada", "phone": "202 555 0143", "email": "", "preferred_time": "any", "consent": "y"}
    without = client.post("/contact", data=contact)
    assert without.status_code == 200  # the form again, with "Please press Send again"
    assert "Please press Send again" in text_of(check_page(without.data))
    forged = client.post("/contact", data={**contact, "csrf_token": "forged"})
    assert "Please press Send again" in text_of(check_page(forged.data))
    assert detached_rows(app, ContactRequest) == []
    assert patient.submit("/contact", contact).location == "/contact/sent"  # with the page's token it is sent
    assert len(detached_rows(app, ContactRequest)) == 1


def test_trusted_hosts_can_be_a_list_and_blank_names_are_dropped(make_app: Callable[..., Flask]) -> None:
    """TRUSTED_HOSTS given as a list works; a stray comma or space trusts no empty host name."""
    listed = make_app(TRUSTED_HOSTS=["a.example", "b.example"]).test_client()
    assert listed.get("/", base_url="http://b.example").status_code == 200
    assert listed.get("/", base_url="http://c.example").status_code == 400
    app = make_app(TRUSTED_HOSTS=" a.example ,, ")
    assert app.extensions["trusted_hosts"] == ["a.example"]
    assert app.test_client().get("/", base_url="http://a.example").status_code == 200


def test_without_a_public_host_only_the_loopback_names_are_trusted(make_app: Callable[..., Flask]) -> None:
    """With no host in PUBLIC_URL the site answers on this machine's own names and no other."""
    client = make_app(PUBLIC_URL="").test_client()
    for base in ("http://localhost", "http://127.0.0.1:5000", "http://[::1]:5000"):
        assert client.get("/", base_url=base).status_code == 200, base
    assert client.get("/", base_url="http://clinic.example").status_code == 400
    for host in ("[::2]:5000", "[::1", "[::1]evil.example"):  # another address, an unclosed one, a trailing name
        assert client.get("/", headers={"Host": host}).status_code == 400, host


def test_a_request_with_no_host_header_is_judged_by_its_server_name(make_app: Callable[..., Flask]) -> None:
    """An HTTP/1.0 request without Host is refused unless the server name it reached is trusted, with a whole page."""
    app = make_app(PUBLIC_URL="https://check.example-clinic.org")

    def answer(server_name: str) -> tuple[str, Headers, bytes]:
        started: list[Any] = []
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": server_name, "SERVER_PORT": "80",
                   "SERVER_PROTOCOL": "HTTP/1.0", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(),
                   "wsgi.errors": io.StringIO()}  # fmt: skip
        body = b"".join(app.wsgi_app(environ, lambda status, headers, *_: started.extend([status, Headers(headers)])))
        return started[0], started[1], body

    status, headers, body = answer("evil.example")
    assert status == "400 Bad Request"
    assert int(headers["Content-Length"]) == len(body)
    assert b"Unknown address" in body and b"evil" not in body
    assert answer("check.example-clinic.org")[0].startswith("200")


def test_a_nul_byte_in_an_api_field_is_named_without_it(make_app: Callable[..., Flask]) -> None:
    """An API client sending a NUL byte in a field's name or value is told which field, in a readable name."""
    client = make_app().test_client()
    for query, field in (("note%00x=1", "notex"), ("note=a%00", "note"), ("n" * 50 + "%00=1", "n" * 40)):
        response = client.post(f"/api/v1/assessments?{query}", json={"answers": {}})
        assert response.status_code == 422, query
        assert response.get_json()["message"] == f"The field '{field}' holds a character that cannot be used."
    form = client.post("/api/v1/assessments", data={"name\x00": "Ada"})
    assert form.status_code == 422
    assert "'name'" in form.get_json()["message"]
    repeated = client.post("/api/v1/assessments", data={"note": ["fine", "hidden\x00"]})  # the second of two values
    assert repeated.status_code == 422
    address = client.post("/api/v1/assess%00ments", json={"answers": {}})
    assert address.status_code == 422
    assert address.get_json()["message"] == "The address holds a character that cannot be used."


@pytest.mark.parametrize("first", ["plain", "forwarded"])
def test_the_headers_follow_each_request_s_scheme_whichever_comes_first(
    make_app: Callable[..., Flask], first: str
) -> None:
    """HSTS goes with a request a proxy marks as HTTPS and never with a plain one, in whatever order they come."""
    client = make_app().test_client()
    forwarded = {"X-Forwarded-Proto": "https"}
    requests = [{}, forwarded] if first == "plain" else [forwarded, {}]
    sent = {
        bool(headers): "Strict-Transport-Security" in client.get("/", headers=headers).headers for headers in requests
    }
    assert sent == {False: False, True: True}


def test_a_view_s_own_policy_reads_as_the_site_s_directives_plus_its_own() -> None:
    """A chart's policy, parsed as a browser parses it, is the site's directives with its style hashes added."""
    from symptomcheck.web.security import policy_header

    policy = policy_header({"style-src": "'sha256-abc='"})
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives == {
        "default-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "form-action": "'self'",
        "frame-ancestors": "'none'", "style-src": "'sha256-abc='"}  # fmt: skip


def test_a_view_that_sets_its_own_policy_keeps_it_and_the_other_headers(make_app: Callable[..., Flask]) -> None:
    """A response with its own stricter policy (a chart's) keeps it; the rest of the security headers are added."""
    from flask import Response

    from symptomcheck.web.security import policy_header

    app = make_app()
    own = policy_header({"style-src": "'sha256-abc='"})

    @app.get("/own-policy")
    def own_policy() -> Response:
        response = Response("<svg/>", mimetype="image/svg+xml")
        response.headers["Content-Security-Policy"] = own
        return response

    for _ in range(2):  # worked out once, then from what was kept
        headers = app.test_client().get("/own-policy").headers
        assert headers.getlist("Content-Security-Policy") == [own]
        assert (headers["X-Content-Type-Options"], headers["X-Frame-Options"]) == ("nosniff", "DENY")
    assert "style-src" not in app.test_client().get("/").headers["Content-Security-Policy"]


def test_behind_two_proxies_each_person_has_their_own_limit_and_https_is_seen(make_app: Callable[..., Flask]) -> None:
    """With PROXY_HOPS=2 limits count the person's address, not the proxy's, and HTTPS at the edge is not redirected."""
    app = make_app(PROXY_HOPS=2, FORCE_HTTPS=True, PUBLIC_URL="https://clinic.example", WTF_CSRF_ENABLED=False)
    client = app.test_client()

    def through_proxies(person: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"{person}, 10.0.0.1", "X-Forwarded-Proto": "https, http",
                "X-Forwarded-Host": "clinic.example, clinic.example"}  # fmt: skip

    home = client.get("/", headers=through_proxies("203.0.113.7"))
    assert home.status_code == 200  # no redirect to the HTTPS it already came over
    assert "Strict-Transport-Security" in home.headers
    one, other = through_proxies("203.0.113.7"), through_proxies("198.51.100.9")
    statuses = [client.post("/staff/login", data={"username": f"x{n}"}, headers=one).status_code for n in range(21)]
    assert statuses[-1] == 429
    assert client.post("/staff/login", data={"username": "y"}, headers=other).status_code == 200
