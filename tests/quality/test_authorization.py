"""Who may call what: an authorization matrix over every route of the app, read from its route table.

Each (method, path template) of ``app.routes`` needs a rule below, so a new route fails
``test_every_route_has_an_authorization_rule`` until someone decides who may call it. Each rule is then
exercised by four actors (anonymous, a learner, another learner, an admin) against real rows: the shipped
content, the actors' own accounts, enrollments and feed tokens, uploads made for the test.

The server-rendered pages (``learning.web``) have rules of their own kind (``page=True``): their actors are
signed in by the ``learning_session`` cookie (holding the actor's token, as signing in through the page
does), their forms carry the page's CSRF token, a visitor is sent to the sign-in page (303) rather than given
a 401, and a refusal is an HTML page. Forms without a valid CSRF token are refused, whoever sends them.

Login rate limiting across app processes is covered by
``tests/accounts/test_rate_limit.py::test_the_limit_holds_across_two_app_processes``.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from learning.accounts.auth import SESSION_COOKIE
from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from learning.web.security import pending_action
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, sql, truncate_all

MODULE = "dix-ans-de-recherche"
SESSION = "2019-01-lancement-du-cycle"
UPLOAD_TARGET = "session:2019-03"
NO_ATTESTATION = "0000-0000-0000-0000"  # a well-formed attestation number nobody was given
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nBonjour.\n"
NEW_PASSWORD = "une autre phrase de passe bien longue"
PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}
HTML = "text/html"
CSRF_FIELD = "_csrf_token"  # the form field Litestar's CSRF middleware reads
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')

Access = Literal["public", "user", "admin"]


# --- the world the requests run against ---------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    name: str
    email: str
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    client: TestClient[Any]
    settings: Settings
    learner: Actor
    other: Actor
    admin: Actor
    lesson_id: str
    lesson_slug: str
    asset_id: str
    asset_name: str
    text_lesson_id: str  # a text lesson of MODULE: the one a page form may mark done
    text_lesson_slug: str
    spare_email: str  # an account no actor is: logging in as it hands no actor's token to another
    feed_tokens: dict[str, str] = field(default_factory=dict)  # actor name → their current private-feed token
    registrations: dict[str, str] = field(default_factory=dict)  # actor name → their enrollment in MODULE

    @property
    def actors(self) -> list[Actor | None]:
        return [None, self.learner, self.other, self.admin]

    def prepare(self) -> None:
        """Every signed-in actor enrolled in MODULE and holding a fresh private-feed token."""
        for actor in (self.learner, self.other, self.admin):
            enrolled = self.client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=actor.headers)
            assert enrolled.status_code in (200, 201), enrolled.text
            self.registrations[actor.name] = enrolled.json()["registration"]
            issued = self.client.post("/api/v1/me/feed-token", headers=actor.headers)
            assert issued.status_code == 201, issued.text
            self.feed_tokens[actor.name] = issued.json()["token"]

    def with_fresh_actors(self) -> World:
        """The same content with three new accounts (for requests that change the accounts themselves)."""
        fresh = replace(
            self,
            learner=new_learner(self.client, "learner"),
            other=new_learner(self.client, "other"),
            admin=new_admin(self.client, self.settings),
            feed_tokens={},
            registrations={},
        )
        fresh.prepare()
        return fresh

    # Rows made on demand, for requests that change or remove what they name.
    def new_user_id(self) -> str:
        response = self.client.post(
            "/api/v1/auth/register", json={"email": unique_email("victime"), "password": PASSWORD}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def new_upload_id(self, *, failed: bool = False) -> str:
        """An upload begun; or one whose bytes all arrived and whose processing then failed (a retry
        processes the received file again, so it must be there)."""
        metadata = f"filename {b64('replay.mp4')},target {b64(UPLOAD_TARGET)}"
        headers = self.admin.headers | {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata}
        body: dict[str, Any] = {}
        if failed:  # creation with upload: the whole file in the first request
            headers["Content-Type"] = "application/offset+octet-stream"
            body["content"] = b"0123456789"
        response = self.client.post("/api/v1/admin/uploads/", headers=headers, **body)
        assert response.status_code == 201, response.text
        upload_id = response.headers["location"].rstrip("/").rsplit("/", 1)[1]
        if failed:
            url = self.settings.require_database_url()
            sql(url, "UPDATE upload SET status = 'failed', error = 'made to fail' WHERE id = $1", uuid.UUID(upload_id))
        return upload_id

    def markers(self, actor: Actor) -> list[str]:
        """What identifies an actor's own data: it must never reach another actor's answers."""
        found = [actor.email, actor.id, actor.token]
        for values in (self.feed_tokens, self.registrations):
            if actor.name in values:
                found.append(values[actor.name])
        return found


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unique_email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:12]}@example.org"


def _actor(client: TestClient[Any], name: str, email: str) -> Actor:
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text
    return Actor(name=name, email=email, id=str(me.json()["id"]), token=token)


def new_learner(client: TestClient[Any], name: str) -> Actor:
    email = unique_email(name)
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return _actor(client, name, email)


def new_admin(client: TestClient[Any], settings: Settings) -> Actor:
    email = unique_email("admin")
    asyncio.run(create_admin(settings, email=email, password=PASSWORD))
    return _actor(client, "admin", email)


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    # Many logins from one test client: the per-IP limit is not what these tests are about.
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("authz") / "var",
        login_ip_limit=100_000,
        register_ip_limit=100_000,
        password_reset_limit=100_000,
        password_check_limit=10_000,
        jobs_in_process=False,
    )
    sync(settings)
    return settings


@pytest.fixture(scope="module")
def app(synced: Settings) -> Litestar:
    return create_app(synced)


@pytest.fixture(scope="module")
def base_world(app: Litestar, synced: Settings) -> Iterator[World]:
    with TestClient(app=app) as client:
        url = synced.require_database_url()
        lesson, text_lesson = (
            sql(
                url,
                "SELECT l.id, l.slug FROM lesson l JOIN module m ON m.id = l.module_id "
                "WHERE m.slug = $1 AND l.kind::text = $2 ORDER BY l.position LIMIT 1",
                MODULE,
                kind,
            )[0]
            for kind in ("video", "text")
        )
        detail = client.get(f"/api/v1/modules/{MODULE}/lessons/{lesson['slug']}")
        assert detail.status_code == 200, detail.text
        _, _, asset_id, asset_name = httpx.URL(detail.json()["media"]["url"]).path.split("/")
        yield World(
            client=client,
            settings=synced,
            learner=new_learner(client, "learner"),
            other=new_learner(client, "other"),
            admin=new_admin(client, synced),
            lesson_id=str(lesson["id"]),
            lesson_slug=lesson["slug"],
            asset_id=asset_id,
            asset_name=asset_name,
            text_lesson_id=str(text_lesson["id"]),
            text_lesson_slug=text_lesson["slug"],
            spare_email=new_learner(client, "spare").email,
        )


@pytest.fixture
def world(base_world: World) -> World:
    base_world.prepare()
    return base_world


# --- the rules ------------------------------------------------------------------------------------------

Send = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    access: Access
    ok: frozenset[int]  # what an allowed actor gets (proves the path named real rows and the handler ran)
    send: Send | None = None  # body and headers, built anew for each actor's request
    params: Mapping[str, Callable[[World], str]] = field(default_factory=dict)  # path values of this route
    fresh_actors: bool = False  # the request changes the accounts themselves
    page: bool = False  # a server-rendered page: cookie session, CSRF-checked forms, redirects to sign in
    media: str | None = None  # a page's content type when it answers 200


def public(*ok: int, send: Send | None = None, **params: Callable[[World], str]) -> Rule:
    return Rule("public", frozenset(ok or {200}), send, params)


def user(*ok: int, send: Send | None = None, fresh_actors: bool = False, **params: Callable[[World], str]) -> Rule:
    return Rule("user", frozenset(ok or {200}), send, params, fresh_actors)


def admin(*ok: int, send: Send | None = None, **params: Callable[[World], str]) -> Rule:
    return Rule("admin", frozenset(ok or {200}), send, params)


def page_public(
    *ok: int,
    media: str | None = HTML,
    send: Send | None = None,
    fresh_actors: bool = False,
    **params: Callable[[World], str],
) -> Rule:
    return Rule("public", frozenset(ok or {200}), send, params, fresh_actors, page=True, media=media)


def page_user(
    *ok: int, send: Send | None = None, fresh_actors: bool = False, media: str | None = HTML,
    **params: Callable[[World], str],
) -> Rule:  # fmt: skip
    return Rule("user", frozenset(ok or {200}), send, params, fresh_actors, page=True, media=media)


def page_admin(*ok: int, send: Send | None = None, **params: Callable[[World], str]) -> Rule:
    return Rule("admin", frozenset(ok or {200}), send, params, page=True, media=HTML)


def _form(body: Callable[[World], dict[str, str]]) -> Send:
    return lambda w: {"data": body(w)}


def _json(body: Callable[[World], Any]) -> Send:
    return lambda w: {"json": body(w)}


def _tus(**headers: str) -> Send:
    return lambda _: {"headers": {"Tus-Resumable": "1.0.0", **headers}}


def _slug() -> str:
    return f"essai-{uuid.uuid4().hex[:10]}"


def _progress_event(w: World) -> dict[str, Any]:
    event = {"id": str(uuid.uuid4()), "type": "position", "lesson_id": w.lesson_id, "position": 1.0,
             "client_time": datetime.now(UTC).isoformat()}  # fmt: skip
    return {"events": [event]}


def _upload_creation(_: World) -> dict[str, Any]:
    metadata = f"filename {b64('replay.mp4')},target {b64(UPLOAD_TARGET)}"
    return {"headers": {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata}}


def _append(_: World) -> dict[str, Any]:
    headers = {"Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}
    return {"headers": headers, "content": b"0123456789"}


_VTT: Send = lambda _: {"headers": {"Content-Type": "text/vtt"}, "content": VTT}  # noqa: E731
_PUBLISHED: Send = _json(lambda _: {"state": "published"})
_NO_CHANGE: Send = _json(lambda _: {})
_FEED = {"filename": lambda _: f"{MODULE}.xml"}
_MEDIA = {"filename": lambda w: w.asset_name}
_FRESH_UPLOAD = {"upload_id": lambda w: w.new_upload_id()}

A = "/api/v1/admin"
LESSON = "/modules/{slug:str}/lessons/{lesson_slug:str}"
SESSION_PATH = "/webinars/{series_slug:str}/sessions/{session_slug:str}"
UPLOAD = "/api/v1/admin/uploads/{upload_id:uuid}"
SIDE_LESSON = "/api/v1/admin/modules/{module_slug:str}/lessons/{lesson_slug:str}/files/{kind:str}"
SIDE_SESSION = "/api/v1/admin/webinars/{series_slug:str}/sessions/{session_slug:str}/files/{kind:str}"
PAGE_LESSON = "/modules/{slug:str}/lecons/{lesson_slug:str}"
PAGE_SESSION = "/webinaires/{series_slug:str}/{session_slug:str}"
VTT_MEDIA = "text/vtt"
_SIGN_IN: Send = _form(lambda w: {"email": w.spare_email, "password": PASSWORD, "suite": "/"})
_SIGN_UP: Send = _form(
    lambda _: {"email": unique_email("page"), "password": PASSWORD, "display_name": "", "suite": "/"}
)
_TEXT_LESSON = {"lesson_slug": lambda w: w.text_lesson_slug}

RULES: dict[tuple[str, str], Rule] = {
    # health, schema, the benchmark baseline
    ("GET", "/health/live"): public(),
    ("GET", "/health/ready"): public(),
    ("GET", "/api/v1/ping"): public(),
    ("GET", "/schema"): public(),
    ("GET", "/schema/openapi.json"): public(),
    ("GET", "/schema/{path:str}"): public(404, path=lambda _: "absent"),
    # accounts
    ("POST", "/api/v1/auth/register"): public(
        201, send=_json(lambda _: {"email": unique_email("inscrit"), "password": PASSWORD})
    ),
    ("POST", "/api/v1/auth/login"): public(send=_json(lambda w: {"email": w.spare_email, "password": PASSWORD})),
    ("POST", "/api/v1/auth/password-reset"): public(202, send=_json(lambda _: {"email": unique_email("oubli")})),
    # a made-up token: refused (422) to anyone alike, never 401/403
    ("POST", "/api/v1/auth/password-reset/confirm"): public(
        422, send=_json(lambda _: {"token": "inconnu", "password": "une-phrase-de-passe-solide"})
    ),
    ("GET", "/api/v1/me"): user(),
    # e-mail addresses: a made-up link is refused alike (422); a change needs the password and a free address
    ("POST", "/api/v1/auth/email-confirmation"): public(422, send=_json(lambda _: {"token": "inconnu"})),
    ("PUT", "/api/v1/me/email"): user(
        202, send=_json(lambda _: {"email": unique_email("nouvelle"), "password": PASSWORD}), fresh_actors=True
    ),
    ("POST", "/api/v1/me/email/verification"): user(202, fresh_actors=True),
    # registrations: the shipped sessions are over (409: closed); nobody is registered (404)
    ("POST", "/api/v1/me/registrations"): user(409, send=_json(lambda _: {"series": SERIES, "session": SESSION})),
    ("GET", "/api/v1/me/registrations"): user(),
    ("GET", "/api/v1/me/export"): user(),
    ("POST", "/api/v1/me/deletion"): user(204, send=_json(lambda _: {"password": PASSWORD}), fresh_actors=True),
    ("DELETE", "/api/v1/me/registrations/{series_slug:str}/{session_slug:str}"): user(404),
    ("POST", "/api/v1/registrations/unregister/{token:str}"): public(404),
    ("GET", "/api/v1/admin/webinars/{series_slug:str}/sessions/{session_slug:str}/registrations"): admin(),
    ("PUT", "/api/v1/me/password"): user(
        send=_json(lambda _: {"current_password": PASSWORD, "new_password": NEW_PASSWORD}), fresh_actors=True
    ),
    # the learner's own progress
    ("POST", "/api/v1/me/sign-out"): user(204, fresh_actors=True),
    ("POST", "/api/v1/me/sign-out-everywhere"): user(204, fresh_actors=True),
    ("GET", "/api/v1/me/enrollments"): user(),
    ("POST", "/api/v1/me/enrollments"): user(200, send=_json(lambda _: {"module": MODULE})),
    ("DELETE", "/api/v1/me/enrollments/{module_slug:str}"): user(204),
    ("GET", "/api/v1/me/progress"): user(),
    ("POST", "/api/v1/me/progress/events"): user(send=_json(_progress_event)),
    ("GET", "/api/v1/me/progress/lessons/{lesson_id:uuid}"): user(),
    ("GET", "/api/v1/me/progress/modules/{module_slug:str}"): user(),
    # quizzes: the questions are public; answering needs the enrollment (409 without) and counts an attempt
    ("GET", "/api/v1/modules/{module_slug:str}/quiz"): public(),
    ("POST", "/api/v1/me/quizzes/{module_slug:str}/attempts"): user(201, 409, send=_json(lambda _: {"answers": {}})),
    ("GET", "/api/v1/me/quizzes/{module_slug:str}/attempts"): user(),
    ("GET", "/api/v1/me/xapi/statements"): user(),
    ("GET", "/api/v1/me/feed-token"): user(),
    ("POST", "/api/v1/me/feed-token"): user(201),
    ("DELETE", "/api/v1/me/feed-token"): user(204),
    # podcast apps (issue 25): app passwords are the learner's own; a made-up id is nobody's (404)
    ("POST", "/api/v1/me/app-passwords"): user(201, send=_json(lambda _: {"name": "Téléphone"})),
    ("GET", "/api/v1/me/app-passwords"): user(),
    ("DELETE", "/api/v1/me/app-passwords/{password_id:uuid}"): user(404, password_id=lambda _: str(uuid.uuid4())),
    # Nextcloud Login Flow v2: public, its tokens are the credentials (a made-up poll token: 404, for anyone)
    ("POST", "/index.php/login/v2"): public(),
    ("POST", "/index.php/login/v2/poll"): public(404, send=_form(lambda _: {"token": "inconnu"})),
    # the sync APIs authenticate with HTTP Basic (an app password) only: a bearer token or a session is no
    # credential there, so every actor gets 401 (their own behaviour: tests/podsync/test_auth.py)
    **{
        (method, path): public(401, user=lambda w: w.learner.email, filename=lambda w: f"{w.learner.email}.json")
        for method, path in [
            ("GET", "/index.php/apps/gpoddersync/subscriptions"),
            ("POST", "/index.php/apps/gpoddersync/subscription_change/create"),
            ("GET", "/index.php/apps/gpoddersync/episode_action"),
            ("POST", "/index.php/apps/gpoddersync/episode_action/create"),
            ("POST", "/api/2/auth/{user:str}/login.json"),
            ("POST", "/api/2/auth/{user:str}/logout.json"),
            ("GET", "/api/2/devices/{filename:str}"),
            ("POST", "/api/2/devices/{user:str}/{filename:str}"),
            ("GET", "/api/2/subscriptions/{user:str}/{filename:str}"),
            ("POST", "/api/2/subscriptions/{user:str}/{filename:str}"),
            ("GET", "/api/2/episodes/{filename:str}"),
            ("POST", "/api/2/episodes/{filename:str}"),
        ]
    },
    # attestations: nobody completed a module here (409); a made-up number is nobody's (404); the key is public
    ("POST", "/api/v1/me/attestations"): user(409, send=_json(lambda _: {"module": MODULE, "name": "Camille"})),
    ("GET", "/api/v1/me/attestations"): user(),
    ("GET", "/api/v1/me/attestations/{filename:str}"): user(404, filename=lambda _: f"{NO_ATTESTATION}.pdf"),
    ("GET", A + "/attestations"): admin(),
    ("POST", A + "/attestations/{number:str}/revocation"): admin(404, send=_json(lambda _: {"reason": "Essai"})),
    ("GET", "/.well-known/jwks.json"): public(),
    ("GET", "/attestations/{number:str}/credential.jwt"): public(404),
    # the public catalog
    **{
        (method, path): rule
        for method in ("GET", "HEAD")
        for path, rule in [
            ("/api/v1/modules", public()),
            ("/api/v1/modules/{slug:str}", public()),
            ("/api/v1" + LESSON, public()),
            ("/api/v1/webinars", public()),
            ("/api/v1/webinars/{series_slug:str}", public()),
            ("/api/v1" + SESSION_PATH, public()),
            ("/api/v1/search", public(send=lambda _: {"params": {"q": "recherche"}})),
        ]
    },
    # media and feeds: public, or a private feed whose token (in the path) is the credential
    ("GET", "/media/{asset_id:uuid}/{filename:str}"): public(**_MEDIA),
    ("HEAD", "/media/{asset_id:uuid}/{filename:str}"): public(**_MEDIA),
    ("GET", "/feeds/webinars/{filename:str}"): public(filename=lambda _: f"{SERIES}.xml"),
    ("HEAD", "/feeds/webinars/{filename:str}"): public(filename=lambda _: f"{SERIES}.atom"),
    ("GET", "/feeds/modules/{filename:str}"): public(**_FEED),
    ("HEAD", "/feeds/modules/{filename:str}"): public(**_FEED),
    ("GET", "/feeds/private/{token:str}/modules/{filename:str}"): public(**_FEED),
    ("HEAD", "/feeds/private/{token:str}/modules/{filename:str}"): public(**_FEED),
    ("GET", "/feeds/private/{token:str}/media/{asset_id:uuid}/{filename:str}"): public(**_MEDIA),
    ("HEAD", "/feeds/private/{token:str}/media/{asset_id:uuid}/{filename:str}"): public(**_MEDIA),
    # CORS preflights of public feeds and media: no credentials, nothing personal
    ("OPTIONS", "/media/{asset_id:uuid}/{filename:str}"): public(204, **_MEDIA),
    ("OPTIONS", "/feeds/webinars/{filename:str}"): public(204, filename=lambda _: f"{SERIES}.xml"),
    ("OPTIONS", "/feeds/modules/{filename:str}"): public(204, **_FEED),
    # admin: accounts, analytics, downloads
    ("GET", A + "/users"): admin(),
    ("GET", A + "/users/{user_id:uuid}"): admin(),
    ("GET", A + "/users/{user_id:uuid}/xapi/statements"): admin(),
    ("DELETE", A + "/users/{user_id:uuid}"): admin(204, user_id=lambda w: w.new_user_id()),
    ("GET", A + "/analytics/modules"): admin(),
    ("GET", A + "/downloads"): admin(),
    ("GET", A + "/downloads/assets/{asset_id:uuid}"): admin(),
    ("GET", A + "/downloads/recorder"): admin(),
    # admin: catalog edits
    ("POST", A + "/modules"): admin(201, send=_json(lambda _: {"slug": _slug(), "title": "Un module d'essai"})),
    ("PATCH", A + "/modules/{slug:str}"): admin(send=_NO_CHANGE),
    ("PUT", A + "/modules/{slug:str}/publication"): admin(send=_PUBLISHED),
    ("POST", A + "/modules/{slug:str}/lessons"): admin(
        201, send=_json(lambda _: {"slug": _slug(), "title": "Une leçon d'essai", "kind": "text", "position": 99})
    ),
    ("PATCH", A + LESSON): admin(send=_NO_CHANGE),
    ("PUT", A + LESSON + "/publication"): admin(send=_PUBLISHED),
    ("POST", A + "/webinars/{series_slug:str}/sessions"): admin(
        201,
        send=_json(lambda _: {"slug": _slug(), "title": "Une séance d'essai", "scheduled_at": "2030-01-10T10:00:00Z"}),
    ),
    ("PATCH", A + SESSION_PATH): admin(send=_NO_CHANGE),
    ("PUT", A + SESSION_PATH + "/publication"): admin(send=_PUBLISHED),
    # admin: uploads (tus) and side files
    ("OPTIONS", "/api/v1/admin/uploads"): public(204),  # tus capability discovery carries no credentials
    ("POST", "/api/v1/admin/uploads"): admin(201, send=_upload_creation),
    ("GET", "/api/v1/admin/uploads"): admin(),
    ("GET", UPLOAD): admin(),
    ("HEAD", UPLOAD): admin(send=_tus()),
    ("PATCH", UPLOAD): admin(204, send=_append, **_FRESH_UPLOAD),
    ("DELETE", UPLOAD): admin(204, send=_tus(), **_FRESH_UPLOAD),
    ("POST", UPLOAD + "/retry"): admin(201, upload_id=lambda w: w.new_upload_id(failed=True)),
    ("PUT", SIDE_LESSON): admin(send=_VTT),
    ("DELETE", SIDE_LESSON): admin(204),
    ("PUT", SIDE_SESSION): admin(send=_VTT),
    ("DELETE", SIDE_SESSION): admin(204),
    # pages: the public catalog (a signed-in viewer sees their own marks on it)
    ("GET", "/"): page_public(),
    ("GET", "/modules"): page_public(),
    ("GET", "/favicon.ico"): page_public(302, media=None),
    ("GET", "/mentions-legales"): page_public(),
    ("GET", "/donnees-personnelles"): page_public(),
    ("GET", "/accessibilite"): page_public(),
    ("GET", "/webinaires"): page_public(),
    ("GET", "/abonnement/{folder:str}/{slug:str}"): page_public(),
    ("GET", "/modules/{slug:str}"): page_public(),
    ("GET", PAGE_LESSON): page_public(),
    ("GET", PAGE_LESSON + "/chapitres.vtt"): page_public(media=VTT_MEDIA),
    # 404 once the side-file rules below have removed the transcript: public either way, never 401/403
    ("GET", PAGE_LESSON + "/transcription.vtt"): page_public(200, 404, media=VTT_MEDIA),
    ("GET", "/webinaires/{series_slug:str}"): page_public(),
    ("GET", PAGE_SESSION): page_public(),
    ("GET", PAGE_SESSION + "/chapitres.vtt"): page_public(media=VTT_MEDIA),
    ("GET", PAGE_SESSION + "/transcription.vtt"): page_public(200, 404, media=VTT_MEDIA),
    ("GET", "/recherche"): page_public(send=lambda _: {"params": {"q": "recherche"}}),
    ("GET", "/static/{file_path:path}"): page_public(media="text/css", file_path=lambda _: "site.css"),
    ("HEAD", "/static/{file_path:path}"): page_public(media=None, file_path=lambda _: "site.css"),  # no type on HEAD
    # pages: signing in, up and out (open to everyone; a spare account, so no actor's session is handed out)
    ("GET", "/connexion"): page_public(),
    ("POST", "/connexion"): page_public(303, send=_SIGN_IN),
    ("GET", "/inscription"): page_public(),
    ("GET", "/mot-de-passe-oublie"): page_public(),
    ("GET", "/compte/mot-de-passe"): page_user(),
    ("GET", "/compte/adresse"): page_user(),
    ("POST", "/compte/adresse"): page_user(
        400, send=_form(lambda _: {"email": unique_email("nouvelle"), "password": "pas-le-bon"})
    ),
    ("POST", "/compte/adresse/verification"): page_user(303, fresh_actors=True),
    ("GET", "/adresse/confirmer/{token:str}"): page_public(410),
    ("POST", "/adresse/confirmer/{token:str}"): page_public(410),
    ("GET", "/compte/donnees"): page_user(media="application/json"),
    ("GET", "/compte/supprimer"): page_user(),
    ("POST", "/compte/supprimer"): page_user(400, send=_form(lambda _: {"password": "pas-le-bon"})),
    ("POST", "/compte/mot-de-passe"): page_user(400, send=_form(lambda _: {"current": "pas-le-bon", "new": "x" * 12})),
    ("GET", PAGE_SESSION + "/rejoindre"): page_public(303, media=None),
    ("POST", PAGE_SESSION + "/inscription"): page_user(409),
    ("POST", PAGE_SESSION + "/desinscription"): page_user(404),
    ("GET", "/seances/desinscription/{token:str}"): page_public(404),
    ("POST", "/seances/desinscription/{token:str}"): page_public(404),
    ("POST", "/mot-de-passe-oublie"): page_public(send=_form(lambda _: {"email": unique_email("oubli")})),
    ("GET", "/mot-de-passe/nouveau/{token:str}"): page_public(410),
    ("POST", "/mot-de-passe/nouveau/{token:str}"): page_public(410, send=_form(lambda _: {"password": "x" * 12})),
    ("POST", "/inscription"): page_public(303, send=_SIGN_UP),
    ("POST", "/deconnexion"): page_public(303, fresh_actors=True),  # revokes the session's token
    # pages: the signed-in learner's own account and forms
    ("GET", "/compte"): page_user(),
    ("POST", "/compte/jeton-prive"): page_user(send=_form(lambda _: {"action": "create"})),
    ("POST", "/compte/deconnexion-partout"): page_user(303, fresh_actors=True),
    ("GET", "/compte/applications"): page_user(),
    ("POST", "/compte/applications"): page_user(send=_form(lambda _: {"name": "Tablette"})),
    ("POST", "/compte/applications/{password_id:uuid}/revocation"): page_user(
        404, password_id=lambda _: str(uuid.uuid4())
    ),
    ("GET", "/compte/applications/connexion/{token:str}"): page_user(404, token=lambda _: "inconnu"),
    ("POST", "/compte/applications/connexion/{token:str}"): page_user(
        404, token=lambda _: "inconnu", send=_form(lambda _: {"action": "approve"})
    ),
    ("GET", "/attestations/{number:str}"): page_public(404),  # a made-up number: the French 404 page, for anyone
    ("GET", "/compte/attestations"): page_user(),
    ("POST", "/compte/attestations"): page_user(409, send=_form(lambda _: {"module": MODULE, "name": "Camille"})),
    ("GET", "/compte/attestations/{filename:str}"): page_user(404, filename=lambda _: f"{NO_ATTESTATION}.pdf"),
    ("POST", "/modules/{slug:str}/inscription"): page_user(303),
    ("GET", "/modules/{slug:str}/desinscription"): page_user(),
    ("GET", "/modules/{slug:str}/quiz"): page_public(),
    ("POST", "/modules/{slug:str}/quiz"): page_user(200, 409),  # an empty attempt, or not enrolled
    ("POST", "/modules/{slug:str}/desinscription"): page_user(303),
    ("POST", PAGE_LESSON + "/terminee"): page_user(303, **_TEXT_LESSON),
    # pages: the admin desk
    ("GET", "/admin"): page_admin(),
    ("GET", "/admin/envoi"): page_admin(),
    ("GET", "/admin/telechargements/{asset_id:uuid}"): page_admin(),
    ("POST", "/admin/publication"): page_admin(
        303, send=_form(lambda _: {"cible": f"session:{SERIES}/{SESSION}", "etat": "published"})
    ),
    ("POST", "/admin/envois/{upload_id:uuid}/relancer"): page_admin(
        303, upload_id=lambda w: w.new_upload_id(failed=True)
    ),
    ("GET", "/admin/seances/{series_slug:str}/{session_slug:str}/depublier"): page_admin(),
    ("GET", "/admin/modules/{slug:str}/lecons/{lesson_slug:str}/depublier"): page_admin(),
    # pages: the admin's forms (a refused edit is 422: the shipped rows stay as they are)
    ("GET", "/admin/seances/nouvelle"): page_admin(),
    ("POST", "/admin/seances/nouvelle"): page_admin(
        303, send=_form(lambda _: {"serie": SERIES, "titre": _slug(), "date": "2027-01-12", "heure": "11:00"})
    ),
    ("GET", "/admin/seances/{series_slug:str}/{session_slug:str}/modifier"): page_admin(),
    ("GET", "/admin/seances/{series_slug:str}/{session_slug:str}/inscrits"): page_admin(),
    ("POST", "/admin/seances/{series_slug:str}/{session_slug:str}/modifier"): page_admin(
        422, send=_form(lambda _: {"titre": ""})
    ),
    ("GET", "/admin/modules/nouveau"): page_admin(),
    ("POST", "/admin/modules/nouveau"): page_admin(303, send=_form(lambda _: {"titre": _slug(), "ordre": "0"})),
    ("GET", "/admin/modules/{slug:str}/modifier"): page_admin(),
    ("POST", "/admin/modules/{slug:str}/modifier"): page_admin(422, send=_form(lambda _: {"titre": ""})),
}

# Every page read answers HEAD too (the GET's status and headers, no body): the same rule.
RULES.update(
    {
        ("HEAD", path): rule
        for (method, path), rule in list(RULES.items())
        if rule.page and method == "GET" and ("HEAD", path) not in RULES
    }
)

# Path values by parameter name, unless a rule names its own.
DEFAULT_PARAMS: dict[str, Callable[[World], str]] = {
    "slug": lambda _: MODULE,
    "module_slug": lambda _: MODULE,
    "lesson_slug": lambda w: w.lesson_slug,
    "series_slug": lambda _: SERIES,
    "session_slug": lambda _: SESSION,
    "lesson_id": lambda w: w.lesson_id,
    "user_id": lambda w: w.other.id,
    "asset_id": lambda w: w.asset_id,
    "upload_id": lambda w: w.new_upload_id(),
    "password_id": lambda _: str(uuid.uuid4()),  # an app password nobody has
    "token": lambda w: w.feed_tokens["learner"],
    "kind": lambda _: "transcript",
    "folder": lambda _: "modules",
    "number": lambda _: NO_ATTESTATION,
}
_PARAM = re.compile(r"\{(\w+):\w+\}")


def is_generated_options(method: str, handler: Any) -> bool:
    """Litestar adds an OPTIONS handler to every path (CORS preflight); it is checked on its own below."""
    return method == "OPTIONS" and handler.handler_name == "options_handler"


def route_table(app: Litestar) -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path template) of every handler, and the paths that have Litestar's own OPTIONS handler."""
    handlers: set[tuple[str, str]] = set()
    generated_options: set[str] = set()
    for route in app.routes:
        assert isinstance(route, HTTPRoute), f"{route.path}: not an HTTP route, give it a rule of its own"
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if is_generated_options(method, handler):
                    generated_options.add(route.path)
                else:
                    handlers.add((method, route.path))
    return handlers, generated_options


def fill(template: str, rule: Rule, world: World, fallback: str | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        make = rule.params.get(name) or DEFAULT_PARAMS.get(name)
        if make is None and fallback is not None:
            return fallback
        assert make is not None, f"{template}: no value for the path parameter {name!r}"
        return make(world)

    return _PARAM.sub(value, template)


def call(world: World, method: str, path: str, rule: Rule, actor: Actor | None) -> httpx.Response:
    options = rule.send(world) if rule.send else {}
    headers = dict(options.pop("headers", {}))
    if actor is not None:
        headers |= actor.headers
    return world.client.request(method, path, headers=headers, **options)


CsrfMode = Literal["valid", "missing", "forged"]


def page_csrf_token(client: TestClient[Any]) -> str:
    """The token a page gives its forms (it repeats the CSRF cookie the same answer sets)."""
    found = _META_CSRF.search(client.get("/connexion").text)
    assert found, "no CSRF token in the page"
    return found.group(1)


def call_page(
    world: World, method: str, path: str, rule: Rule, actor: Actor | None, csrf: CsrfMode = "valid"
) -> httpx.Response:
    """A browser's request: the actor's session cookie (their token, as signing in through the page sets it),
    and on a form the page's CSRF token. The client's cookies are the actor's alone, for this request only."""
    client = world.client
    options = rule.send(world) if rule.send else {}
    client.cookies.clear()
    try:
        if actor is not None:
            client.cookies.set(SESSION_COOKIE, actor.token, domain=httpx.URL(str(client.base_url)).host)
        if method == "POST":
            data = dict(options.pop("data", {}))
            if csrf == "valid":
                data[CSRF_FIELD] = page_csrf_token(client)
            elif csrf == "missing":
                page_csrf_token(client)  # the browser holds the CSRF cookie; the forged form lacks the token
            else:
                data[CSRF_FIELD] = "0" * 128
            options["data"] = data
        return client.request(method, path, follow_redirects=False, **options)
    finally:
        client.cookies.clear()


def set_cookie_names(response: httpx.Response) -> set[str]:
    return {header.split("=", 1)[0] for header in response.headers.get_list("set-cookie")}


def check_page_refused(response: httpx.Response, status: int, label: str, says: str | None = None) -> None:
    """A refused page is an HTML error page that signs no one in."""
    assert response.status_code == status, f"{label}: {response.status_code} {response.text[:300]}"
    assert response.headers.get("content-type", "").startswith(HTML), f"{label}: {response.headers}"
    assert SESSION_COOKIE not in set_cookie_names(response), f"{label}: a refusal opens a session"
    if says is not None and response.request.method != "HEAD":  # a HEAD answer has no body to read
        assert says in response.text, f"{label}: {response.text[:300]}"


def check_sent_to_sign_in(response: httpx.Response, method: str, path: str, label: str) -> None:
    """A visitor on a page for signed-in users is sent to the sign-in page, back here afterwards (a form,
    without a Referer, comes back to the home page; enrolling or marking a lesson done is carried out after
    signing in)."""
    assert response.status_code == 303, f"{label}: {response.status_code} {response.text[:300]}"
    expected = f"/connexion?suite={path}" if method in ("GET", "HEAD") else "/connexion?suite=/"
    if method == "POST" and pending_action(path):
        expected += f"&reprendre={path}"
    assert response.headers.get("location") == expected, f"{label}: {response.headers}"
    assert SESSION_COOKIE not in set_cookie_names(response), label


def check_page(response: httpx.Response, rule: Rule, method: str, path: str, actor: Actor | None, label: str) -> None:
    if rule.access in ("admin", "user") and actor is None:
        check_sent_to_sign_in(response, method, path, label)
    elif rule.access == "admin" and actor is not None and actor.name != "admin":
        check_page_refused(response, 403, label, "Cette page est réservée aux administrateurs.")
    else:
        assert response.status_code in rule.ok, f"{label}: {response.status_code} {response.text[:300]}"
        if response.status_code == 200 and rule.media is not None:
            assert response.headers.get("content-type", "").startswith(rule.media), f"{label}: {response.headers}"


def check_api(response: httpx.Response, rule: Rule, method: str, actor: Actor | None, label: str) -> None:
    if rule.access in ("admin", "user") and actor is None:
        check_refused(response, 401, method, label)
    elif rule.access == "admin" and actor is not None and actor.name != "admin":
        check_refused(response, 403, method, label)
    else:
        assert response.status_code in rule.ok, f"{label}: {response.status_code} {response.text[:300]}"


def check_refused(response: httpx.Response, status: int, method: str, label: str) -> None:
    assert response.status_code == status, f"{label}: {response.status_code} {response.text[:300]}"
    assert response.headers.get("content-type", "").startswith(PROBLEM_JSON), f"{label}: {response.headers}"
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), label
    if method != "HEAD":
        body = response.json()
        assert body["status"] == status, label
        assert set(body) <= PROBLEM_KEYS, f"{label}: a refusal carries no data: {body}"


def check_no_leak(world: World, response: httpx.Response, path: str, actor: Actor | None, label: str) -> None:
    """No answer to a non-admin caller carries another account's identity, token or enrollment (a value the
    caller put in the path itself, as a feed token, is theirs to see)."""
    if actor is not None and actor.name == "admin":
        return
    seen = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    for owner in (world.learner, world.other, world.admin):
        if actor is not None and owner.name == actor.name:
            continue
        for marker in world.markers(owner):
            if marker not in path:
                assert marker not in seen, f"{label}: the answer shows {owner.name}'s {marker!r}"


# --- the tests --------------------------------------------------------------------------------------------


def test_every_route_has_an_authorization_rule(app: Litestar) -> None:
    handlers, generated_options = route_table(app)
    assert sorted(handlers - RULES.keys()) == [], "routes without an authorization rule: add them to RULES"
    assert sorted(RULES.keys() - handlers) == [], "rules for routes the app no longer has"
    paths = {path for _, path in handlers}
    assert generated_options <= paths


@pytest.mark.parametrize(("method", "template"), sorted(RULES), ids=[f"{m} {p}" for m, p in sorted(RULES)])
def test_route_answers_each_actor_as_its_rule_says(world: World, method: str, template: str) -> None:
    rule = RULES[(method, template)]
    if rule.fresh_actors:
        world = world.with_fresh_actors()
    path = fill(template, rule, world)
    for actor in world.actors:
        name = actor.name if actor else "anonymous"
        label = f"{method} {path} as {name}"
        if rule.page:
            response = call_page(world, method, path, rule, actor)
            check_page(response, rule, method, path, actor, label)
        else:
            response = call(world, method, path, rule, actor)
            check_api(response, rule, method, actor, label)
        check_no_leak(world, response, path, actor, label)


def test_generated_options_answers_need_no_credentials_and_carry_no_data(app: Litestar, world: World) -> None:
    _, generated_options = route_table(app)
    for template in sorted(generated_options):
        path = fill(template, Rule("public", frozenset({204})), world, fallback="x.xml")
        for actor in (None, world.learner):
            response = world.client.options(path, headers=actor.headers if actor else {})
            assert response.status_code == 204, f"OPTIONS {path}: {response.status_code} {response.text[:200]}"
            assert response.content == b"", f"OPTIONS {path}"
            assert "allow" in response.headers, f"OPTIONS {path}"


def test_a_learner_never_sees_nor_changes_another_learners_data(base_world: World) -> None:
    client = base_world.client
    owner, intruder = new_learner(client, "learner"), new_learner(client, "other")
    # The owner's data: an enrollment, watched seconds, xAPI statements, a private-feed token.
    enrolled = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=owner.headers)
    assert enrolled.status_code == 201, enrolled.text
    registration = enrolled.json()["registration"]
    event = {"id": str(uuid.uuid4()), "type": "played", "lesson_id": base_world.lesson_id, "from": 0, "to": 12,
             "client_time": datetime.now(UTC).isoformat()}  # fmt: skip
    recorded = client.post("/api/v1/me/progress/events", json={"events": [event]}, headers=owner.headers)
    assert recorded.status_code == 200, recorded.text
    issued = client.post("/api/v1/me/feed-token", headers=owner.headers).json()
    feed_token, (feed_url,) = issued["token"], issued["feeds"]
    feed_path = httpx.URL(feed_url).path
    owner_view = client.get(f"/api/v1/me/progress/lessons/{base_world.lesson_id}", headers=owner.headers).json()
    assert owner_view["watched_seconds"] > 0
    secrets = [owner.email, owner.id, owner.token, registration, feed_token, issued["hint"]]

    def intruder_get(path: str) -> httpx.Response:
        response = client.get(path, headers=intruder.headers)
        for secret in secrets:
            assert secret not in response.text, f"GET {path} shows the owner's {secret!r}"
        return response

    assert intruder_get("/api/v1/me").json()["id"] == intruder.id
    assert intruder_get("/api/v1/me/enrollments").json() == []
    assert intruder_get("/api/v1/me/progress").json() == []
    lesson = intruder_get(f"/api/v1/me/progress/lessons/{base_world.lesson_id}").json()
    assert lesson["watched_seconds"] == 0
    assert lesson["position_seconds"] is None
    module = intruder_get(f"/api/v1/me/progress/modules/{MODULE}").json()
    assert module["enrolled"] is False
    assert module["registration"] is None
    assert intruder_get("/api/v1/me/xapi/statements").json()["statements"] == []
    assert intruder_get("/api/v1/me/feed-token").status_code == 404
    # What the intruder does with the same paths and slugs touches only their own account.
    client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=intruder.headers)
    client.delete("/api/v1/me/feed-token", headers=intruder.headers)
    intruder_event = {**event, "id": str(uuid.uuid4()), "from": 0, "to": 20}
    client.post("/api/v1/me/progress/events", json={"events": [intruder_event]}, headers=intruder.headers)
    assert client.get("/api/v1/me/enrollments", headers=owner.headers).json()[0]["registration"] == registration
    after = client.get(f"/api/v1/me/progress/lessons/{base_world.lesson_id}", headers=owner.headers).json()
    assert after["watched_seconds"] == owner_view["watched_seconds"]
    assert client.get(feed_path).status_code == 200
    assert client.get("/api/v1/me/feed-token", headers=owner.headers).json()["hint"] == issued["hint"]
    # Admin routes naming the owner are closed to the intruder.
    for path in (f"/api/v1/admin/users/{owner.id}", f"/api/v1/admin/users/{owner.id}/xapi/statements"):
        check_refused(client.get(path, headers=intruder.headers), 403, "GET", path)
    check_refused(client.delete(f"/api/v1/admin/users/{owner.id}", headers=intruder.headers), 403, "DELETE", "user")
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 200


PAGE_FORMS = sorted(key for key, rule in RULES.items() if rule.page and key[0] == "POST")


@pytest.mark.parametrize("csrf", ["missing", "forged"])
@pytest.mark.parametrize(("method", "template"), PAGE_FORMS, ids=[f"{m} {p}" for m, p in PAGE_FORMS])
def test_page_forms_without_a_valid_csrf_token_are_refused(
    world: World, method: str, template: str, csrf: CsrfMode
) -> None:
    """Whoever sends it, a form without the page's CSRF token (or with a made-up one) is refused before its
    handler runs: no session opened, no account changed."""
    rule = RULES[(method, template)]
    if template == "/admin/publication":  # a change that shows: unpublishing the session
        rule = replace(rule, send=_form(lambda _: {"cible": f"session:{SERIES}/{SESSION}", "etat": "draft"}))
    path = fill(template, rule, world)
    before = account_state(world)
    for actor in world.actors:
        label = f"{method} {path} as {actor.name if actor else 'anonymous'}, CSRF token {csrf}"
        response = call_page(world, method, path, rule, actor, csrf=csrf)
        check_page_refused(response, 403, label, "vérification de sécurité")
        check_no_leak(world, response, path, actor, label)
    assert account_state(world) == before, "a refused form changed an account"
    assert world.client.get(f"/api/v1/webinars/{SERIES}/sessions/{SESSION}").status_code == 200, "unpublished"
    if "{upload_id" in template:
        upload_id = path.split("/")[3]
        upload = world.client.get(f"/api/v1/admin/uploads/{upload_id}", headers=world.admin.headers).json()
        assert upload["status"] == "failed", f"a refused retry ran: {upload}"


def account_state(world: World) -> dict[str, Any]:
    """What the learner forms change, per actor: enrollment, the text lesson's completion, the feed token."""
    state: dict[str, Any] = {}
    for actor in (world.learner, world.other, world.admin):
        module = world.client.get(f"/api/v1/me/progress/modules/{MODULE}", headers=actor.headers).json()
        lesson = world.client.get(f"/api/v1/me/progress/lessons/{world.text_lesson_id}", headers=actor.headers)
        token = world.client.get("/api/v1/me/feed-token", headers=actor.headers)
        state[actor.name] = (module["enrolled"], module["registration"], lesson.json()["completed"], token.text)
    return state


def sign_in_through_the_page(client: TestClient[Any], email: str) -> str:
    """Sign in with the form, as a browser does; the session cookie's value (a token) is returned."""
    client.cookies.clear()
    form = {"email": email, "password": PASSWORD, "suite": "/compte", CSRF_FIELD: page_csrf_token(client)}
    response = client.post("/connexion", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/compte"
    session = client.cookies.get(SESSION_COOKIE)
    assert session, "no session cookie"
    return session


def test_a_learners_page_forms_act_on_their_own_account_only(base_world: World) -> None:
    client = base_world.client
    learner, other = new_learner(client, "learner"), new_learner(client, "other")
    enrolled = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=other.headers)
    assert enrolled.status_code == 201, enrolled.text
    registration = enrolled.json()["registration"]
    issued = client.post("/api/v1/me/feed-token", headers=other.headers).json()
    other_feed = httpx.URL(issued["feeds"][0]).path
    other_secrets = [other.email, other.id, other.token, registration, issued["token"], issued["hint"]]

    def other_untouched() -> None:
        module = client.get(f"/api/v1/me/progress/modules/{MODULE}", headers=other.headers).json()
        assert module["enrolled"] is True
        assert str(module["registration"]) == registration
        lesson = client.get(f"/api/v1/me/progress/lessons/{base_world.text_lesson_id}", headers=other.headers)
        assert lesson.json()["completed"] is False
        assert client.get(other_feed).status_code == 200
        assert client.get("/api/v1/me/feed-token", headers=other.headers).json()["hint"] == issued["hint"]

    def mine(module: str = MODULE) -> dict[str, Any]:
        found: dict[str, Any] = client.get(f"/api/v1/me/progress/modules/{module}", headers=learner.headers).json()
        return found

    def post(path: str, **data: str) -> httpx.Response:
        response = client.post(path, data=data | {CSRF_FIELD: page_csrf_token(client)}, follow_redirects=False)
        for secret in other_secrets:
            assert secret not in response.text, f"POST {path} shows the other learner's {secret!r}"
        return response

    try:
        sign_in_through_the_page(client, learner.email)
        account = client.get("/compte")
        assert account.status_code == 200
        assert learner.email in account.text
        assert all(secret not in account.text for secret in other_secrets), "/compte shows the other learner"

        assert post(f"/modules/{MODULE}/inscription").status_code == 303
        assert mine()["enrolled"] is True
        other_untouched()
        done = post(f"/modules/{MODULE}/lecons/{base_world.text_lesson_slug}/terminee")
        assert done.status_code == 303
        progress = client.get(f"/api/v1/me/progress/lessons/{base_world.text_lesson_id}", headers=learner.headers)
        assert progress.json()["completed"] is True
        other_untouched()
        created = post("/compte/jeton-prive", action="create")
        assert created.status_code == 200
        shown = re.search(r'id="token-value" type="text" readonly value="([^"]+)"', created.text)
        assert shown, "the new token is shown once"
        assert client.get(f"/feeds/private/{shown.group(1)}/modules/{MODULE}.xml").status_code == 200
        other_untouched()
        assert post("/compte/jeton-prive", action="revoke").status_code == 200
        assert client.get(f"/feeds/private/{shown.group(1)}/modules/{MODULE}.xml").status_code == 410
        other_untouched()
        assert post(f"/modules/{MODULE}/desinscription").status_code == 303
        assert mine()["enrolled"] is False
        other_untouched()
        # The pages the learner reads never show the other learner either.
        for path in ("/", f"/modules/{MODULE}", f"/modules/{MODULE}/lecons/{base_world.text_lesson_slug}", "/compte"):
            page = client.get(path)
            assert page.status_code == 200, path
            for secret in other_secrets:
                assert secret not in page.text, f"GET {path} shows the other learner's {secret!r}"
        # Signing out ends the page session.
        assert post("/deconnexion").status_code == 303
        assert client.get("/compte", follow_redirects=False).status_code == 303
    finally:
        client.cookies.clear()


def test_a_page_session_ends_when_the_password_changes(base_world: World) -> None:
    """The session cookie is the API's token: changing the password turns it away on the pages too."""
    client = base_world.client
    learner = new_learner(client, "learner")
    try:
        session = sign_in_through_the_page(client, learner.email)
        assert client.get("/compte", follow_redirects=False).status_code == 200
        changed = client.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=learner.headers,
        )
        assert changed.status_code == 200, changed.text
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, session, domain=httpx.URL(str(client.base_url)).host)
        check_sent_to_sign_in(client.get("/compte", follow_redirects=False), "GET", "/compte", "old session")
        admin_page = client.get("/admin", follow_redirects=False)
        check_sent_to_sign_in(admin_page, "GET", "/admin", "old session on the desk")
    finally:
        client.cookies.clear()
