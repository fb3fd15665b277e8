"""Who may call what: an authorization matrix over every route of the app, read from its route table.

Each (method, path template) of ``app.routes`` needs a rule below, so a new route fails
``test_every_route_has_an_authorization_rule`` until someone decides who may call it. Each rule is then
exercised by four actors (anonymous, a learner, another learner, an admin) against real rows: the shipped
content, the actors' own accounts, enrollments and feed tokens, uploads made for the test.

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

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, sql, truncate_all

MODULE = "dix-ans-de-recherche"
SESSION = "2019-01-lancement-du-cycle"
UPLOAD_TARGET = "session:2019-03"
VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nBonjour.\n"
NEW_PASSWORD = "une autre phrase de passe bien longue"
PROBLEM_JSON = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail"}

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
        metadata = f"filename {b64('replay.mp4')},target {b64(UPLOAD_TARGET)}"
        headers = self.admin.headers | {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": metadata}
        response = self.client.post("/api/v1/admin/uploads/", headers=headers)
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
        database_url, tmp_path_factory.mktemp("authz") / "var", login_ip_limit=100_000, jobs_in_process=False
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
        lesson = sql(
            url,
            "SELECT l.id, l.slug FROM lesson l JOIN module m ON m.id = l.module_id "
            "WHERE m.slug = $1 AND l.kind = 'video' ORDER BY l.position LIMIT 1",
            MODULE,
        )[0]
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


def public(*ok: int, send: Send | None = None, **params: Callable[[World], str]) -> Rule:
    return Rule("public", frozenset(ok or {200}), send, params)


def user(*ok: int, send: Send | None = None, fresh_actors: bool = False, **params: Callable[[World], str]) -> Rule:
    return Rule("user", frozenset(ok or {200}), send, params, fresh_actors)


def admin(*ok: int, send: Send | None = None, **params: Callable[[World], str]) -> Rule:
    return Rule("admin", frozenset(ok or {200}), send, params)


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

RULES: dict[tuple[str, str], Rule] = {
    # health, schema, the benchmark baseline
    ("GET", "/health/live"): public(),
    ("GET", "/health/ready"): public(),
    ("GET", "/api/v1/ping"): public(),
    ("GET", "/schema"): public(),
    ("GET", "/schema/openapi.json"): public(),
    ("GET", "/schema/scalar"): public(),
    ("GET", "/schema/{path:str}"): public(404, path=lambda _: "absent"),
    # accounts
    ("POST", "/api/v1/auth/register"): public(
        201, send=_json(lambda _: {"email": unique_email("inscrit"), "password": PASSWORD})
    ),
    ("POST", "/api/v1/auth/login"): public(send=_json(lambda w: {"email": w.spare_email, "password": PASSWORD})),
    ("GET", "/api/v1/me"): user(),
    ("PUT", "/api/v1/me/password"): user(
        send=_json(lambda _: {"current_password": PASSWORD, "new_password": NEW_PASSWORD}), fresh_actors=True
    ),
    # the learner's own progress
    ("GET", "/api/v1/me/enrollments"): user(),
    ("POST", "/api/v1/me/enrollments"): user(200, send=_json(lambda _: {"module": MODULE})),
    ("DELETE", "/api/v1/me/enrollments/{module_slug:str}"): user(204),
    ("GET", "/api/v1/me/progress"): user(),
    ("POST", "/api/v1/me/progress/events"): user(send=_json(_progress_event)),
    ("GET", "/api/v1/me/progress/lessons/{lesson_id:uuid}"): user(),
    ("GET", "/api/v1/me/progress/modules/{module_slug:str}"): user(),
    ("GET", "/api/v1/me/xapi/statements"): user(),
    ("GET", "/api/v1/me/feed-token"): user(),
    ("POST", "/api/v1/me/feed-token"): user(201),
    ("DELETE", "/api/v1/me/feed-token"): user(204),
    # the public catalog
    ("GET", "/api/v1/modules"): public(),
    ("GET", "/api/v1/modules/{slug:str}"): public(),
    ("GET", "/api/v1" + LESSON): public(),
    ("GET", "/api/v1/webinars"): public(),
    ("GET", "/api/v1/webinars/{series_slug:str}"): public(),
    ("GET", "/api/v1" + SESSION_PATH): public(),
    ("GET", "/api/v1/search"): public(send=lambda _: {"params": {"q": "recherche"}}),
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
    # admin: accounts, analytics, downloads
    ("GET", A + "/users"): admin(),
    ("GET", A + "/users/{user_id:uuid}"): admin(),
    ("GET", A + "/users/{user_id:uuid}/xapi/statements"): admin(),
    ("DELETE", A + "/users/{user_id:uuid}"): admin(204, user_id=lambda w: w.new_user_id()),
    ("GET", A + "/analytics/modules"): admin(),
    ("GET", A + "/downloads"): admin(),
    ("GET", A + "/downloads/assets/{asset_id:uuid}"): admin(),
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
}

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
    "token": lambda w: w.feed_tokens["learner"],
    "kind": lambda _: "transcript",
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
        response = call(world, method, path, rule, actor)
        if rule.access in ("admin", "user") and actor is None:
            check_refused(response, 401, method, label)
        elif rule.access == "admin" and actor is not None and actor.name != "admin":
            check_refused(response, 403, method, label)
        else:
            assert response.status_code in rule.ok, f"{label}: {response.status_code} {response.text[:300]}"
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
