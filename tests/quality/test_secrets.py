"""Secrets stay secret: a realistic run of the app on S3 (redirect mode, presigned URLs) with every logger at
DEBUG, then every log line and every answer searched for passwords, tokens, keys, signatures and hashes."""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from pydantic import SecretStr

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.attestations.keys import instance_key
from learning.config import MediaDelivery, Settings
from learning.lib.logging import JsonFormatter, logging_config
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings
from tests.helpers.s3 import MotoServer

MODULE = "dix-ans-de-recherche"
ARGON2 = "$argon2"
PRESIGNED = "X-Amz-Signature="
# The test client's own loggers: they print the URLs the test asks for, which the server never logs.
CLIENT_LOGGERS = ("httpx", "httpcore")


@dataclass
class Capture:
    """Every answer the app gave (status line, headers, body), and what it was asked for."""

    responses: list[tuple[str, httpx.Response]] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append((f"{response.request.method} {response.request.url.path}", response))

    @staticmethod
    def text(response: httpx.Response) -> str:
        headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
        return f"{response.status_code}\n{headers}\n\n{response.text}"


def server_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Everything the server side logged, as the app's JSON lines (with their structured fields) and as
    plain text (messages, arguments, tracebacks)."""
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    assert records, "nothing was logged: the capture is not working"
    formatter = JsonFormatter()
    return "\n".join(formatter.format(r) + "\n" + caplog.handler.format(r) for r in records)


def log_everything_at(caplog: pytest.LogCaptureFixture, level: int, configured: dict[str, Any] | None = None) -> None:
    """Capture from every logger (caplog restores their levels afterwards), those that do not propagate
    included. Without ``configured``, every logger known so far is set to ``level``; with it, they inherit
    the root's ``level`` but for the ones it names, as a ``dictConfig`` of those loggers would leave them."""
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(level if configured is None else logging.NOTSET, logger=name)
            if not logger.propagate and caplog.handler not in logger.handlers:
                logger.addHandler(caplog.handler)
    for name, options in (configured or {}).items():
        caplog.set_level(options["level"], logger=name)
    caplog.set_level(level)  # last: it also sets the capture handler's level


@pytest.fixture
def detach_capture(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


@pytest.fixture
def s3_settings_for_leaks(
    clean_database: str, tmp_path: Path, s3_server: MotoServer, s3_bucket: str
) -> tuple[Settings, str]:
    # moto checks no signatures: a distinctive secret key (not moto's "testing") can be searched for.
    s3_secret = "s3-secret-" + secrets.token_urlsafe(24)
    overrides = s3_server.settings(s3_bucket) | {"s3_secret_key": SecretStr(s3_secret)}
    settings = make_settings(
        clean_database, tmp_path / "var", media_delivery=MediaDelivery.REDIRECT, jobs_in_process=False, **overrides
    )
    sync(settings)
    return settings, s3_secret


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_no_secret_reaches_the_logs_or_an_answer_where_it_does_not_belong(
    s3_settings_for_leaks: tuple[Settings, str], caplog: pytest.LogCaptureFixture, detach_capture: None
) -> None:
    settings, s3_secret = s3_settings_for_leaks
    log_everything_at(caplog, logging.DEBUG)
    capture = Capture()
    email = f"apprenante-{uuid.uuid4().hex[:8]}@example.org"
    password, new_password = "premier secret " + secrets.token_hex(8), "second secret " + secrets.token_hex(8)
    wrong_password = "mauvais secret " + secrets.token_hex(8)
    admin_email = f"regie-{uuid.uuid4().hex[:8]}@example.org"
    admin_password = "secret de la regie " + secrets.token_hex(8)
    asyncio.run(create_admin(settings, email=admin_email, password=admin_password))

    handed_out: dict[str, set[str]] = {}  # secret → the requests whose answer is meant to carry it
    with TestClient(app=create_app(settings)) as client:
        client.event_hooks = {"request": [], "response": [capture.record]}

        # Accounts: register, errors that might echo the input, logins failed and good, a password change.
        assert client.post("/api/v1/auth/register", json={"email": email, "password": password}).status_code == 201
        assert client.post("/api/v1/auth/register", json={"email": email, "password": password}).status_code == 409
        for body in (
            {"email": email, "password": password, "unexpected": password},
            {"email": email, "password": password * 100},
            {"email": email},
        ):
            assert client.post("/api/v1/auth/register", json=body).status_code in (400, 422)
        assert client.post("/api/v1/auth/login", json={"email": email, "password": wrong_password}).status_code == 401
        unknown = {"email": "personne@example.org", "password": wrong_password}
        assert client.post("/api/v1/auth/login", json=unknown).status_code == 401
        login = client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200
        first_token = login.json()["access_token"]
        headers = {"Authorization": f"Bearer {first_token}"}
        wrong_change = {"current_password": wrong_password, "new_password": new_password}
        assert client.put("/api/v1/me/password", json=wrong_change, headers=headers).status_code in (400, 401, 403, 422)
        change = {"current_password": password, "new_password": new_password}
        changed = client.put("/api/v1/me/password", json=change, headers=headers)
        assert changed.status_code == 200, changed.text
        token = changed.json()["access_token"]
        assert client.get("/api/v1/me", headers=headers).status_code == 401  # the old token stopped working
        headers = {"Authorization": f"Bearer {token}"}
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        handed_out[first_token] = {"POST /api/v1/auth/login"}
        handed_out[token] = {"PUT /api/v1/me/password"}

        # A private feed: its token, the feed, and its media answered with a presigned redirect.
        assert client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=headers).status_code == 201
        issued = client.post("/api/v1/me/feed-token", headers=headers)
        assert issued.status_code == 201
        feed_token, (feed_url,) = issued.json()["token"], issued.json()["feeds"]
        assert client.get("/api/v1/me/feed-token", headers=headers).status_code == 200
        feed_path = httpx.URL(feed_url).path
        feed = client.get(feed_path)
        assert feed.status_code == 200
        assert client.head(feed_path).status_code == 200
        enclosure = httpx.URL(feed.text.split('<enclosure url="', 1)[1].split('"', 1)[0]).path
        private_media = client.get(enclosure, follow_redirects=False)
        assert private_media.status_code == 302
        public_media = client.get(enclosure.replace(f"/feeds/private/{feed_token}", ""), follow_redirects=False)
        assert public_media.status_code == 302
        for redirect in (private_media, public_media):
            assert PRESIGNED in redirect.headers["location"]
        handed_out[feed_token] = {"POST /api/v1/me/feed-token", f"GET {feed_path}"}
        assert client.get(feed_path.replace(feed_token, feed_token[:-2] + "xx")).status_code == 404

        # The admin: user listings and details, and a tus upload into S3 (multipart, with its first bytes).
        admin_login = client.post("/api/v1/auth/login", json={"email": admin_email, "password": admin_password})
        admin_token = admin_login.json()["access_token"]
        handed_out[admin_token] = {"POST /api/v1/auth/login"}
        admin = {"Authorization": f"Bearer {admin_token}"}
        users = client.get("/api/v1/admin/users", headers=admin)
        assert users.status_code == 200
        assert {u["email"] for u in users.json()["items"]} >= {email, admin_email}
        user_id = next(u["id"] for u in users.json()["items"] if u["email"] == email)
        assert client.get(f"/api/v1/admin/users/{user_id}", headers=admin).status_code == 200
        assert client.get(f"/api/v1/admin/users/{user_id}/xapi/statements", headers=admin).status_code == 200
        metadata = f"filename {_b64('r.mp4')},target {_b64('session:2019-03')}"
        tus = {"Tus-Resumable": "1.0.0", "Upload-Metadata": metadata}
        created = client.post(
            "/api/v1/admin/uploads/",
            headers=admin | tus | {"Upload-Length": "20", "Content-Type": "application/offset+octet-stream"},
            content=b"0123456789",
        )
        assert created.status_code == 201, created.text
        location = httpx.URL(created.headers["location"]).path
        appended = client.patch(
            location,
            headers=admin | tus | {"Upload-Offset": "10", "Content-Type": "application/offset+octet-stream"},
            content=b"abcdefghij",
        )
        assert appended.status_code == 204, appended.text
        assert client.get(location, headers=admin).json()["status"] == "uploaded"
        assert client.get("/api/v1/admin/uploads", headers=admin).status_code == 200
        assert client.get("/api/v1/admin/users", headers=headers).status_code == 403
        assert client.get("/.well-known/jwks.json").status_code == 200  # the credential key's public half

    logs = server_logs(caplog)
    # The app's JSON request lines were captured, private-feed paths masked in them.
    assert '"logger": "learning.access"' in logs
    assert '"path": "/feeds/private/***/modules/' in logs
    never_anywhere = {
        "a password": [password, new_password, wrong_password, admin_password],
        "the signing secret": [settings.signing_key()],
        "the S3 secret key": [s3_secret],
        "the credential key's private part": [instance_key(settings).key.as_dict(private=True)["d"]],
    }
    for what, values in never_anywhere.items():
        for value in values:
            assert value not in logs, f"{what} is in the logs"
            for request, response in capture.responses:
                assert value not in Capture.text(response), f"{what} is in the answer to {request}"
    for what, value in [("a bearer token", first_token), ("a bearer token", token), ("a bearer token", admin_token),
                        ("the private-feed token", feed_token)]:  # fmt: skip
        assert value not in logs, f"{what} is in the logs"
        for request, response in capture.responses:
            if request not in handed_out[value]:
                assert value not in Capture.text(response), f"{what} is in the answer to {request}"
    assert PRESIGNED not in logs, "a presigned URL is in the logs"
    for request, response in capture.responses:
        assert ARGON2 not in Capture.text(response), f"a password hash is in the answer to {request}"
    assert len(capture.responses) >= 30


def test_no_password_hash_reaches_the_logs_at_the_production_level(
    settings: Settings, caplog: pytest.LogCaptureFixture, detach_capture: None
) -> None:
    # The levels `learning serve` sets (lib/logging.py: logging_config) at its default LEARNING_LOG_LEVEL.
    # Regression: SQLAlchemy used to log every statement with its parameters, argon2 hashes included.
    config = logging_config(settings.log_level)
    log_everything_at(caplog, logging.getLevelName(config["root"]["level"]), config["loggers"])
    password, new_password = "premier secret " + secrets.token_hex(8), "second secret " + secrets.token_hex(8)
    with TestClient(app=create_app(settings)) as client:
        email = f"apprenant-{uuid.uuid4().hex[:8]}@example.org"
        assert client.post("/api/v1/auth/register", json={"email": email, "password": password}).status_code == 201
        token = client.post("/api/v1/auth/login", json={"email": email, "password": password}).json()["access_token"]
        change = {"current_password": password, "new_password": new_password}
        headers = {"Authorization": f"Bearer {token}"}
        assert client.put("/api/v1/me/password", json=change, headers=headers).status_code == 200
    logs = server_logs(caplog)
    assert password not in logs
    assert ARGON2 not in logs, "password hashes are in the logs"
