"""HTTP endpoints of the podcast-app sync.

- ``/api/v1/me/app-passwords``: the learner's app passwords (bearer token, as the rest of ``/api/v1/me``);
- ``/index.php/login/v2``: Nextcloud Login Flow v2, as AntennaPod starts and polls it (public: the tokens are
  the credentials); the learner approves on the page ``learning.web.podsync``;
- ``/index.php/apps/gpoddersync/…``: Nextcloud gpoddersync (AntennaPod, Kasts);
- ``/api/2/…``: the gpodder.net API v2 subset that gPodder and ``mygpoclient`` use.

The sync routes skip the bearer-token middleware and authenticate each request with HTTP Basic (the account's
e-mail and an app password: ``deps.provide_sync_user``). They are left out of the OpenAPI document: their
shapes are those of the apps' protocols, not ours.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from learning.accounts.auth import CurrentUser, client_ip
from learning.lib.clock import utcnow
from learning.lib.guards import requires_json_body
from learning.podsync.deps import (
    provide_app_passwords,
    provide_login_flows,
    provide_sync_service,
    provide_sync_user,
)  # fmt: skip
from learning.podsync.schemas import (
    AppPasswordCreate,
    AppPasswordCreated,
    AppPasswordRead,
    DeviceIn,
    EpisodeActionIn,
    SubscriptionChangeIn,
    SyncUser,
)  # fmt: skip
from learning.podsync.services import (
    LOGIN_PAGE,
    SESSION_COOKIE,
    SESSION_PATH,
    AppPasswordService,
    LoginFlowNotFound,
    LoginFlowService,
    app_name,
    check_url_user,
)  # fmt: skip
from learning.podsync.sync import BadSyncRequest, SyncService, check_device, parse_body

Since = Annotated[int | None, QueryParameter(ge=0, le=10**11)]
_SYNC = {"exclude_from_auth": True}


class AppPasswordController(Controller):
    path = "/api/v1/me/app-passwords"
    tags = ["accounts"]
    guards = [requires_json_body]
    dependencies = {"passwords": Provide(provide_app_passwords, sync_to_thread=False)}

    @post("/", status_code=HTTP_201_CREATED, operation_id="CreateAppPassword", opt={"problems": [422]})
    async def create(
        self,
        data: JSONBody[AppPasswordCreate],
        request: Request[CurrentUser, Any, Any],
        passwords: NamedDependency[AppPasswordService],
        state: State,
    ) -> AppPasswordCreated:
        """A new app password for a podcast app, shown this once with the server address and login name to type
        in the app (gPodder, AntennaPod, Kasts…)."""
        made = await passwords.create(request.user.id, data.name, utcnow())
        return AppPasswordCreated(
            id=made.row.id, name=made.row.name, password=made.password, server=state.settings.base_url,
            login_name=request.user.email, created_at=made.row.created_at,
        )  # fmt: skip

    @get("/", operation_id="ListAppPasswords")
    async def list_passwords(
        self, request: Request[CurrentUser, Any, Any], passwords: NamedDependency[AppPasswordService]
    ) -> list[AppPasswordRead]:
        """Your live app passwords (never the passwords themselves): name, first characters, dates."""
        return [
            AppPasswordRead(id=row.id, name=row.name, hint=row.hint, created_at=row.created_at,
                            last_used_at=row.last_used_at)
            for row in await passwords.live(request.user.id)
        ]  # fmt: skip

    @delete("/{password_id:uuid}", status_code=HTTP_204_NO_CONTENT, operation_id="RevokeAppPassword",
            opt={"problems": [404]})  # fmt: skip
    async def revoke(
        self,
        password_id: FromPath[uuid.UUID],
        request: Request[CurrentUser, Any, Any],
        passwords: NamedDependency[AppPasswordService],
    ) -> None:
        """Revoke an app password: the app is refused from its next request, and its feeds answer 410."""
        await passwords.revoke(request.user.id, password_id, utcnow())


class LoginFlowController(Controller):
    """Nextcloud Login Flow v2 (AntennaPod's ``NextcloudLoginFlow``): start, then poll with the token."""

    path = "/index.php/login/v2"
    include_in_schema = False
    opt = _SYNC
    dependencies = {"flows": Provide(provide_login_flows, sync_to_thread=False)}

    @post("/", status_code=HTTP_200_OK)
    async def start(
        self, request: Request[Any, Any, Any], flows: NamedDependency[LoginFlowService], state: State
    ) -> dict[str, Any]:
        started = await flows.start(app_name(request.headers.get("user-agent")), client_ip(request), utcnow())
        base = state.settings.base_url
        return {
            "poll": {"token": started.poll_token, "endpoint": f"{base}/index.php/login/v2/poll"},
            "login": f"{base}{LOGIN_PAGE}/{started.login_token}",
        }

    @post("/poll", status_code=HTTP_200_OK)
    async def poll(
        self, request: Request[Any, Any, Any], flows: NamedDependency[LoginFlowService], state: State
    ) -> dict[str, str]:
        form = await request.form()
        token = form.get("token")
        if not isinstance(token, str) or not token:
            raise LoginFlowNotFound("No such login flow.")
        given = await flows.poll(token, utcnow())
        return {"server": state.settings.base_url, "loginName": given.login_name, "appPassword": given.app_password}


class GpodderSyncController(Controller):
    """Nextcloud gpoddersync, as AntennaPod's ``NextcloudSyncService`` calls it."""

    path = "/index.php/apps/gpoddersync"
    include_in_schema = False
    opt = _SYNC
    dependencies = {
        "sync_user": Provide(provide_sync_user),
        "sync": Provide(provide_sync_service, sync_to_thread=False),
    }

    @get("/subscriptions")
    async def subscriptions(
        self, sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService], since: Since = None
    ) -> dict[str, Any]:
        changes = await sync.subscriptions(sync_user, "", since, utcnow())
        return {"add": changes.add, "remove": changes.remove, "timestamp": changes.timestamp}

    @post("/subscription_change/create", status_code=HTTP_200_OK)
    async def change_subscriptions(
        self, request: Request[Any, Any, Any], sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService],
        state: State,
    ) -> dict[str, Any]:  # fmt: skip
        body = parse_body(await request.body(), SubscriptionChangeIn, state.settings.json_max_depth)
        timestamp = await sync.change_subscriptions(sync_user, "", body.add, body.remove, utcnow())
        return {"timestamp": timestamp}

    @get("/episode_action")
    async def episode_actions(
        self, sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService], since: Since = None
    ) -> dict[str, Any]:
        changes = await sync.actions(sync_user, since, utcnow(), with_device=False)
        return {"actions": changes.actions, "timestamp": changes.timestamp}

    @post("/episode_action/create", status_code=HTTP_200_OK)
    async def upload_episode_actions(
        self, request: Request[Any, Any, Any], sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService],
        state: State,
    ) -> dict[str, Any]:  # fmt: skip
        actions = parse_body(await request.body(), list[EpisodeActionIn], state.settings.json_max_depth)
        return {"timestamp": await sync.upload_actions(sync_user, actions, "", utcnow())}


def _json_name(filename: str) -> str:
    """``name.json`` → ``name``: only the JSON format is served."""
    if not filename.endswith(".json") or len(filename) <= len(".json"):
        raise BadSyncRequest("Only the JSON format (…/name.json) is served.")
    return filename[: -len(".json")]


def _answer(sync_user: SyncUser, state: State, content: Any) -> Response[Any]:
    """A gpodder.net answer: after HTTP Basic, with the session cookie the client keeps (services.SESSION_COOKIE)."""
    cookies = []
    if sync_user.session is not None:
        secure = state.settings.base_url.startswith("https://")
        cookies.append(
            Cookie(
                key=SESSION_COOKIE,
                value=sync_user.session,
                path=SESSION_PATH,
                httponly=True,
                samesite="strict",
                secure=secure,
            )
        )
    if isinstance(content, bytes):
        return Response(content, media_type="application/json", cookies=cookies)
    return Response(content, cookies=cookies)


class GpodnetController(Controller):
    """The gpodder.net API v2 subset ``mygpoclient``'s ``MygPodderClient`` uses. The account is named in the
    URL too (its e-mail, URL-encoded): it must be the one the credentials are for (403 otherwise)."""

    path = "/api/2"
    include_in_schema = False
    opt = _SYNC
    dependencies = {
        "sync_user": Provide(provide_sync_user),
        "sync": Provide(provide_sync_service, sync_to_thread=False),
    }

    @post("/auth/{user:str}/login.json", status_code=HTTP_200_OK)
    async def login(self, user: FromPath[str], sync_user: NamedDependency[SyncUser], state: State) -> Response[bytes]:
        """Checks the credentials (no session cookie: every request carries them)."""
        check_url_user(sync_user, user)
        return _answer(sync_user, state, b"")

    @post("/auth/{user:str}/logout.json", status_code=HTTP_200_OK)
    async def logout(self, user: FromPath[str], sync_user: NamedDependency[SyncUser]) -> Response[bytes]:
        """Ends the session cookie (the app password stays valid: revoke it to refuse the app)."""
        check_url_user(sync_user, user)
        ended = Cookie(key=SESSION_COOKIE, value="", path=SESSION_PATH, max_age=0)
        return Response(b"", media_type="application/json", cookies=[ended])

    @get("/devices/{filename:str}")
    async def devices(
        self, filename: FromPath[str], sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService],
        state: State,
    ) -> Response[Any]:  # fmt: skip
        check_url_user(sync_user, _json_name(filename))
        devices = [
            {"id": device.device, "caption": device.caption, "type": device.kind, "subscriptions": count}
            for device, count in await sync.devices(sync_user)
        ]
        return _answer(sync_user, state, devices)

    @post("/devices/{user:str}/{filename:str}", status_code=HTTP_200_OK)
    async def save_device(
        self, user: FromPath[str], filename: FromPath[str], request: Request[Any, Any, Any],
        sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService], state: State,
    ) -> Response[bytes]:  # fmt: skip
        check_url_user(sync_user, user)
        device = check_device(_json_name(filename))
        raw = await request.body()
        body = parse_body(raw, DeviceIn, state.settings.json_max_depth) if raw.strip() else DeviceIn()
        await sync.save_device(sync_user, device, body.caption, body.type, utcnow())
        return _answer(sync_user, state, b"")

    @get("/subscriptions/{user:str}/{filename:str}")
    async def subscriptions(
        self, user: FromPath[str], filename: FromPath[str], sync_user: NamedDependency[SyncUser],
        sync: NamedDependency[SyncService], state: State, since: Since = None,
    ) -> Response[Any]:  # fmt: skip
        check_url_user(sync_user, user)
        changes = await sync.subscriptions(sync_user, check_device(_json_name(filename)), since, utcnow())
        return _answer(sync_user, state, {"add": changes.add, "remove": changes.remove, "timestamp": changes.timestamp})

    @post("/subscriptions/{user:str}/{filename:str}", status_code=HTTP_200_OK)
    async def change_subscriptions(
        self, user: FromPath[str], filename: FromPath[str], request: Request[Any, Any, Any],
        sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService], state: State,
    ) -> Response[Any]:  # fmt: skip
        check_url_user(sync_user, user)
        device = check_device(_json_name(filename))
        body = parse_body(await request.body(), SubscriptionChangeIn, state.settings.json_max_depth)
        timestamp = await sync.change_subscriptions(sync_user, device, body.add, body.remove, utcnow())
        return _answer(sync_user, state, {"timestamp": timestamp, "update_urls": []})

    @get("/episodes/{filename:str}")
    async def episode_actions(
        self, filename: FromPath[str], sync_user: NamedDependency[SyncUser], sync: NamedDependency[SyncService],
        since: Since = None, podcast: Annotated[str | None, QueryParameter(max_length=2000)] = None,
        device: Annotated[str | None, QueryParameter(max_length=64)] = None,
        aggregated: Annotated[str | None, QueryParameter(max_length=5)] = None, *, state: State,
    ) -> Response[Any]:  # fmt: skip
        check_url_user(sync_user, _json_name(filename))
        changes = await sync.actions(
            sync_user,
            since,
            utcnow(),
            podcast=podcast,
            device=check_device(device) if device else None,
            latest=aggregated == "true",
        )
        return _answer(sync_user, state, {"actions": changes.actions, "timestamp": changes.timestamp})

    @post("/episodes/{filename:str}", status_code=HTTP_200_OK)
    async def upload_episode_actions(
        self, filename: FromPath[str], request: Request[Any, Any, Any], sync_user: NamedDependency[SyncUser],
        sync: NamedDependency[SyncService], state: State,
    ) -> Response[Any]:  # fmt: skip
        check_url_user(sync_user, _json_name(filename))
        actions = parse_body(await request.body(), list[EpisodeActionIn], state.settings.json_max_depth)
        timestamp = await sync.upload_actions(sync_user, actions, "", utcnow())
        return _answer(sync_user, state, {"timestamp": timestamp, "update_urls": []})
