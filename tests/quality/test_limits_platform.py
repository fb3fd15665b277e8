"""Issue 17, the platform's part: nothing hangs on a stalled database, no input yields a 5xx, no third-party
code on our origin, security headers and ``no-store`` where answers carry secrets, and no private-feed token
in any log line.

- A stalled PostgreSQL (a relay in front of it stops forwarding, as a SIGSTOPped server or a dead network
  path would look) answers 503 + Retry-After within a few seconds on ``/``, ``/api/v1/me``, feeds and media
  ranges, and ``/health/ready`` stays bounded; once it flows again, the app serves again without a restart.
- JSON nested 1,000 deep on register, login and any other JSON body is a 400 problem, not a 500.
- A search made of many ``-`` (and its neighbours) is never a 5xx.
- ``/schema`` loads nothing from another origin and carries a CSP; every HTML answer, the pages' errors
  included, carries the security headers and ``no-store``; so does the answer that issues a feed token.
- Every log line (access, warnings, errors, tracebacks) hides private-feed tokens in any path form.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import logging.config
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.lib.logging import logging_config
from tests.helpers.accounts import PASSWORD, Account, register
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import sql
from tests.helpers.live import free_port, live_server

MODULE = "comprendre-la-co-construction-territoriale"
DEEP = 1000
TOKEN = "Zp4Q-secret_feed_token_0123456789abcdefGHIJ"


def assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.request.method, response.request.url.path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    if response.request.method != "HEAD":
        assert response.json()["status"] == status


def assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503)
    assert int(response.headers["retry-after"]) > 0


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors]


# --------------------------------------------------------------------------- a stalled PostgreSQL


class StallingRelay:
    """A TCP relay to PostgreSQL that the test can stall: ``stall()`` stops forwarding bytes in both
    directions on every connection (new ones are accepted and held), as a stopped server or a dead path
    looks to a client; ``flow()`` forwards again."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        host = parse_qs(parts.query).get("host", [""])[0]
        if host.startswith("/"):  # the embedded server: a Unix socket
            self.target: Any = f"{unquote(host)}/.s.PGSQL.{parts.port or 5432}"
            self.family = socket.AF_UNIX
        else:
            self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
            self.family = socket.AF_INET
        self.port = free_port()
        self.url = f"postgresql+asyncpg://{parts.username or 'postgres'}@127.0.0.1:{self.port}{parts.path}"
        if parts.password:
            self.url = self.url.replace("@", f":{parts.password}@", 1)
        self._flowing = threading.Event()
        self._flowing.set()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._flowing.set()
        for end in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.socket(self.family, socket.SOCK_STREAM)
            upstream.connect(self.target)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(64 * 1024):
                self._flowing.wait()  # stalled: the bytes wait here, the peer hears nothing
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def relay(settings: Settings) -> Iterator[StallingRelay]:
    relay = StallingRelay(settings.require_database_url())
    yield relay
    relay.close()


def _wait_for(check: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)  # polling towards a deadline, not a timing assertion
    raise AssertionError(f"still waiting for {what} after {timeout} s")


def test_a_stalled_database_is_503_within_seconds_then_the_app_serves_again(
    settings: Settings, relay: StallingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    sync(settings)
    url = settings.require_database_url()
    media = sql(url, "SELECT id FROM media_asset WHERE ref = 'mooc-audio-03.m4a'")[0]["id"]
    stalled = settings.model_copy(
        update={
            "database_url": relay.url,
            "database_statement_timeout_ms": 1000,
            "database_lock_timeout_ms": 500,
            "database_pool_timeout_seconds": 1.0,
            "database_connect_timeout_seconds": 1.0,
        }
    )
    # The client's own deadline: far below the 60 s and more that these requests used to hang.
    with live_server(create_app(stalled)) as base, httpx.Client(base_url=base, timeout=8) as client:
        registered = client.post("/api/v1/auth/register", json={"email": "a@example.org", "password": PASSWORD})
        assert registered.status_code == 201
        login = client.post("/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD})
        learner = {"Authorization": f"Bearer {login.json()['access_token']}"}
        assert client.get("/api/v1/me", headers=learner).status_code == 200

        relay.stall()
        try:
            home = client.get("/", headers={"Accept": "text/html"})  # a page: the French error page
            assert (home.status_code, int(home.headers["retry-after"])) == (503, 5)
            assert home.headers["content-type"].startswith("text/html")
            assert_unavailable(client.get("/api/v1/me", headers=learner))
            assert_unavailable(client.get(f"/feeds/modules/{MODULE}.xml"))
            assert_unavailable(client.get(f"/feeds/private/{TOKEN}/modules/{MODULE}.xml"))
            assert_unavailable(client.get(f"/media/{media}/mooc-audio-03.m4a", headers={"Range": "bytes=0-99"}))
            assert_unavailable(client.get(f"/api/v1/webinars/{SERIES}"))
            ready = client.get("/health/ready")
            assert_unavailable(ready)
            assert ready.json()["checks"]["database"] != "ok"
        finally:
            relay.flow()
        _wait_for(lambda: client.get("/api/v1/me", headers=learner).status_code == 200, "/api/v1/me again")
        assert client.get("/").status_code == 200
        assert client.get(f"/media/{media}/mooc-audio-03.m4a", headers={"Range": "bytes=0-99"}).status_code == 206
        assert client.get("/health/ready").status_code == 200
    no_traceback(caplog)


def test_every_connection_has_statement_and_lock_timeouts(make_client: Any) -> None:
    """Server-side limits, so a slow statement or a held lock ends even when the app's process is busy."""
    client = make_client(database_statement_timeout_ms=4321, database_lock_timeout_ms=1234)
    app = client.app

    async def shown() -> tuple[str, str]:
        async with app.state.engine.connect() as connection:
            statement = (await connection.exec_driver_sql("SHOW statement_timeout")).scalar_one()
            lock = (await connection.exec_driver_sql("SHOW lock_timeout")).scalar_one()
        return statement, lock

    assert client.blocking_portal.call(shown) == ("4321ms", "1234ms")


# --------------------------------------------------------------------------- input never yields 5xx


def _nested(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    return (opener * depth + closer * depth).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_nested(DEEP), id="arrays"),
        pytest.param(('{"a":' * DEEP + "1" + "}" * DEEP).encode(), id="objects"),
        pytest.param(('{"email":' + "[" * DEEP + "]" * DEEP + "}").encode(), id="inside-a-field"),
        pytest.param(_nested(100_000), id="hundred-thousand"),
        pytest.param(_nested(DEEP)[: DEEP + 5], id="deep-and-truncated"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/auth/register", "/api/v1/auth/login"])
def test_deeply_nested_json_is_a_400_problem(
    client: TestClient[Any], path: str, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 400)
    assert "nest" in response.json()["detail"].lower()
    no_traceback(caplog)


def test_deeply_nested_json_is_refused_on_every_json_body_route(
    client: TestClient[Any], admin: Account, caplog: pytest.LogCaptureFixture
) -> None:
    learner = register(client)
    body = ('{"events": [' + '{"a":' * DEEP + "1" + "}" * DEEP + "]}").encode()
    headers = {**learner.headers, "Content-Type": "application/json"}
    for method, path in [
        ("POST", "/api/v1/me/progress/events"),
        ("POST", "/api/v1/me/enrollments"),
        ("PUT", "/api/v1/me/password"),
        ("POST", "/api/v1/admin/modules"),
        ("PATCH", f"/api/v1/admin/modules/{MODULE}"),
    ]:
        as_admin = path.startswith("/api/v1/admin")
        response = client.request(
            method, path, content=body, headers={**headers, **(admin.headers if as_admin else {})}
        )
        assert_problem(response, 400)
    no_traceback(caplog)


def test_json_nested_within_the_limit_is_still_read(client: TestClient[Any]) -> None:
    """The cap refuses depth, not structure: brackets inside strings are text, ordinary bodies pass."""
    brackets = "Zx8-q" + "[{" * 200
    response = client.post("/api/v1/auth/register", json={"email": "b@example.org", "password": brackets})
    assert response.status_code == 201, response.text
    nested = {"email": "c@example.org", "password": PASSWORD, "display_name": [[[["x"]]]]}
    assert_problem(client.post("/api/v1/auth/register", json=nested), 422)  # read, then refused by its schema


@pytest.mark.parametrize(
    "q",
    [
        pytest.param("-" * 33, id="33-dashes"),
        pytest.param("-" * 200, id="200-dashes"),
        pytest.param("- " * 60, id="spaced-dashes"),
        pytest.param("a " + "-b " * 50, id="many-negations"),
        pytest.param("a " + "or " * 60 + "b", id="many-ors"),
        pytest.param('"' * 100, id="quotes"),
        pytest.param("!" * 100, id="bangs"),
        pytest.param("(" * 100, id="parentheses"),
        pytest.param("a " * 100, id="many-words"),
        pytest.param("-" * 1000, id="over-the-length"),
    ],
)
def test_hostile_searches_are_never_a_5xx(client: TestClient[Any], q: str, caplog: pytest.LogCaptureFixture) -> None:
    sync_free = client.get("/api/v1/search", params={"q": q})
    assert sync_free.status_code < 500, sync_free.text
    assert sync_free.status_code in (200, 400)
    page = client.get("/recherche", params={"q": q})
    assert page.status_code < 500
    no_traceback(caplog)


# --------------------------------------------------------------------------- no third-party code, headers


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_the_api_reference_loads_nothing_from_another_origin(client: TestClient[Any]) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Nothing with a scheme or a protocol-relative address is loaded by the page.
    loaded = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="([^"]*)"', page.text)
    assert not [address for address in loaded if "//" in address], loaded
    policy = _csp(page)
    assert policy["default-src"] in ("default-src 'none'", "default-src 'self'")
    assert "frame-ancestors 'none'" in policy.values()
    assert page.headers["x-content-type-options"] == "nosniff"
    # The page is readable offline: it names the operations itself and links the document.
    assert "/api/v1/search" in page.text
    assert "Search" in page.text
    assert client.get("/schema/openapi.json").json()["info"]["title"] == "learning"


def _assert_secure_html(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    assert "frame-ancestors 'none'" in _csp(response).values(), response.headers
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert response.headers["cache-control"] == "no-store"


def test_every_html_answer_carries_the_security_headers(client: TestClient[Any]) -> None:
    sync_client = client
    html = {"Accept": "text/html"}
    cases = [
        ("GET", "/", 200),
        ("GET", "/modules/nulle-part", 404),  # raised by a page
        ("POST", "/connexion", 403),  # no CSRF token
        ("GET", "/schema", 200),
    ]
    for method, path, status in cases:
        response = sync_client.request(method, path, headers=html)
        assert response.status_code == status, (method, path, response.status_code)
        _assert_secure_html(response)


def test_an_error_page_of_the_page_router_has_the_headers_even_on_a_500(
    settings: Settings, relay: StallingRelay, caplog: pytest.LogCaptureFixture
) -> None:
    """A page that cannot be made (here, no database at all): an HTML error page with the same headers."""
    relay.close()  # nothing listens any more: every connection is refused
    with TestClient(app=create_app(settings.model_copy(update={"database_url": relay.url}))) as client:
        response = client.get("/modules/un-module", headers={"Accept": "text/html"})
    assert response.status_code >= 500
    _assert_secure_html(response)


def test_the_answer_that_issues_a_feed_token_is_never_stored(client: TestClient[Any]) -> None:
    learner = register(client)
    issued = client.post("/api/v1/me/feed-token", headers=learner.headers)
    assert issued.status_code == 201
    assert issued.json()["token"]
    assert issued.headers["cache-control"] == "no-store"
    assert issued.headers["x-content-type-options"] == "nosniff"
    # Any authenticated answer that says nothing about caching is not stored either.
    assert client.get("/api/v1/me", headers=learner.headers).headers["cache-control"] == "no-store"


# --------------------------------------------------------------------------- one redaction for every log line

TOKEN_FORMS = [
    f"/feeds/private/{TOKEN}/modules/x.xml",
    f"//feeds//private//{TOKEN}/media/1/a.m4a",
    f"/feeds/private/{TOKEN}",
    f"%2Ffeeds%2Fprivate%2F{TOKEN}%2Fmodules%2Fx.xml",
    f"/feeds%2fprivate/{TOKEN}/x",
    f"/%66eeds/%70rivate/{TOKEN}/x",
    f"https://podcasts.example.org/feeds/private/{TOKEN}/modules/x.xml?a=1",
    f"/FEEDS/Private/{TOKEN}/x",
]


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """The logging the CLI configures (``logging_config``), writing to a buffer; the test's own restored."""
    stream = io.StringIO()
    config = logging_config("INFO")
    config["handlers"]["stderr"]["stream"] = stream
    names = ["", *config["loggers"], "learning.access", "learning.errors"]
    loggers = {name: logging.getLogger(name) for name in names}
    saved = {name: (lg.handlers[:], lg.level, lg.propagate, lg.filters[:]) for name, lg in loggers.items()}
    logging.config.dictConfig(config)
    try:
        yield stream
    finally:
        for name, (handlers, level, propagate, filters) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
            lg.filters[:] = filters


@pytest.mark.parametrize("form", TOKEN_FORMS)
def test_private_feed_tokens_never_reach_a_log_line(production_log: io.StringIO, form: str) -> None:
    log = logging.getLogger("learning.test")
    log.warning("database unavailable on GET %s", form)
    log.error("failed: " + form)
    try:
        raise ValueError(f"cannot read {form}")
    except ValueError:
        log.exception("unhandled error on GET %s", form)
    logging.getLogger("learning.access").info("request", extra={"fields": {"path": form, "status": 200}})
    logging.getLogger("uvicorn.error").warning("Invalid HTTP request received: %s", form)
    written = production_log.getvalue()
    lines = written.splitlines()
    assert len(lines) == 5, written
    assert all(json.loads(line) for line in lines)
    assert TOKEN not in written
    assert TOKEN not in unquote(written)
    assert "ValueError" in written  # the traceback is still there, only the token is hidden


def test_other_paths_are_logged_as_they_are(production_log: io.StringIO) -> None:
    logging.getLogger("learning.test").warning("on GET %s", "/feeds/modules/comprendre.xml")
    assert "/feeds/modules/comprendre.xml" in production_log.getvalue()


def test_a_private_feed_warning_from_the_app_hides_the_token(
    settings: Settings, relay: StallingRelay, production_log: io.StringIO, tmp_path: Path
) -> None:
    """End to end: the database is unreachable while a podcast app polls its private feed."""
    relay.close()  # nothing listens any more: every connection is refused
    app = create_app(settings.model_copy(update={"database_url": relay.url}))
    with TestClient(app=app) as client:
        response = client.get(f"/feeds//private/{TOKEN}/modules/{MODULE}.xml")
        assert response.status_code in (404, 503)
        client.get(f"/feeds/private/{TOKEN}/modules/{MODULE}.xml")
    written = production_log.getvalue()
    assert "/feeds/private/" in written
    assert TOKEN not in written
