"""HTTP endpoints: a learner's registrations (/api/v1/me/registrations), the signed unregister link of the
messages (one click, no sign-in: RFC 8058), and an admin's list of who registered for a session."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from learning.accounts.auth import CurrentUser, requires_admin
from learning.lib.guards import requires_json_body
from learning.registrations.deps import provide_registration_service
from learning.registrations.schemas import RegistrantRead, RegistrationRead, registrant_read, registration_read
from learning.registrations.services import RegistrationService

SLUG = msgspec.Meta(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class RegistrationCreate(msgspec.Struct, forbid_unknown_fields=True):
    series: Annotated[str, SLUG]
    session: Annotated[str, SLUG]


class RegistrationController(Controller):
    path = "/api/v1/me/registrations"
    tags = ["registrations"]
    guards = [requires_json_body]
    dependencies = {"registrations": Provide(provide_registration_service, sync_to_thread=False)}

    @post("/", operation_id="RegisterForSession", status_code=HTTP_201_CREATED, opt={"problems": [404, 409]})
    async def register(
        self,
        data: JSONBody[RegistrationCreate],
        request: Request[CurrentUser, Any, Any],
        registrations: NamedDependency[RegistrationService],
        state: State,
    ) -> RegistrationRead:
        """Register for an upcoming (or live) session: a confirmation with the event attached goes by e-mail,
        then reminders before it, a notice if it moves or is cancelled, and its replay. Registering again changes
        nothing (409 once the session is over or cancelled)."""
        found = await registrations.register(request.user.id, data.series, data.session)
        return registration_read(found, state.settings.base_url)

    @get("/", operation_id="ListMyRegistrations")
    async def mine(
        self, request: Request[CurrentUser, Any, Any], registrations: NamedDependency[RegistrationService], state: State
    ) -> list[RegistrationRead]:
        """The sessions you are registered for, in time order."""
        return [
            registration_read(found, state.settings.base_url) for found in await registrations.mine(request.user.id)
        ]

    @delete("/{series_slug:str}/{session_slug:str}", operation_id="UnregisterFromSession", opt={"problems": [404]})
    async def unregister(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        request: Request[CurrentUser, Any, Any],
        registrations: NamedDependency[RegistrationService],
    ) -> None:
        """Unregister: no more messages about this session."""
        await registrations.unregister(request.user.id, series_slug, session_slug)


class UnregisterLinkController(Controller):
    """The link in every message: one POST unregisters (what mail apps send for List-Unsubscribe-Post)."""

    path = "/api/v1/registrations/unregister"
    tags = ["registrations"]
    dependencies = {"registrations": Provide(provide_registration_service, sync_to_thread=False)}
    opt = {"exclude_from_auth": True}

    @post("/{token:str}", operation_id="UnregisterByLink", status_code=HTTP_204_NO_CONTENT, opt={"problems": [404]})
    async def unregister(self, token: FromPath[str], registrations: NamedDependency[RegistrationService]) -> None:
        """Unregister with the signed link of a message (no sign-in; again: no change)."""
        await registrations.unregister_by_token(token)


class AdminRegistrationController(Controller):
    path = "/api/v1/admin/webinars"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = {"registrations": Provide(provide_registration_service, sync_to_thread=False)}

    @get("/{series_slug:str}/sessions/{session_slug:str}/registrations", operation_id="ListSessionRegistrations",
         opt={"problems": [404]})  # fmt: skip
    async def registrants(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        registrations: NamedDependency[RegistrationService],
    ) -> list[RegistrantRead]:
        """Who registered for a session (and who attended), in registration order."""
        return [registrant_read(item) for item in await registrations.of_session(series_slug, session_slug)]
