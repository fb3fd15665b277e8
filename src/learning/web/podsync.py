"""« Applications de podcast » (issue 25): the learner's app passwords (create, shown once with the server
address and login name; revoke), and the page where a podcast app's Nextcloud login request is approved.
No JavaScript: plain forms with the pages' CSRF token."""

from __future__ import annotations

import uuid
from typing import Literal

import msgspec
from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from learning.accounts.auth import CurrentUser
from learning.lib.clock import utcnow
from learning.lib.errors import Unprocessable
from learning.podsync.deps import provide_app_passwords, provide_login_flows
from learning.podsync.services import LOGIN_PAGE, AppPasswordService, LoginFlowService, NewAppPassword
from learning.web.deps import provide_viewer
from learning.web.security import requires_signed_in
from learning.web.templating import Flash, page
from learning.web.views import page_route

APPS_PAGE = "/compte/applications"


class AppPasswordForm(msgspec.Struct):
    name: str = ""


class ApprovalForm(msgspec.Struct):
    action: Literal["approve", "refuse"] = "approve"


class PodsyncPages(Controller):
    """The signed-in learner's podcast apps."""

    guards = [requires_signed_in]
    dependencies = {
        "passwords": Provide(provide_app_passwords, sync_to_thread=False),
        "flows": Provide(provide_login_flows, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    async def _apps(
        self, viewer: CurrentUser, passwords: AppPasswordService, state: State, *, made: NewAppPassword | None = None,
        flash: Flash | None = None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        return page(
            "podsync.html", viewer, flash=flash, status_code=status_code, passwords=await passwords.live(viewer.id),
            made=made, server=state.settings.base_url,
        )  # fmt: skip

    @page_route(APPS_PAGE, name="web:podcast-apps")
    async def apps(
        self, viewer: NamedDependency[CurrentUser], passwords: NamedDependency[AppPasswordService], state: State
    ) -> Template:
        """The app passwords: name, first characters, dates; a form to make one, one to revoke each."""
        return await self._apps(viewer, passwords, state)

    @post(APPS_PAGE, name="web:podcast-apps-create")
    async def create(
        self, data: URLEncodedBody[AppPasswordForm], viewer: NamedDependency[CurrentUser],
        passwords: NamedDependency[AppPasswordService], state: State,
    ) -> Template:  # fmt: skip
        """Make an app password: shown on this page only, once."""
        try:
            made = await passwords.create(viewer.id, data.name[:200], utcnow())
        except Unprocessable as exc:
            said = "Donnez un nom à l’application." if not data.name.strip() else "Révoquez d’abord un mot de passe."
            return await self._apps(viewer, passwords, state, flash=Flash(said, "error"), status_code=exc.status_code)
        flash = Flash("Mot de passe d’application créé : copiez-le maintenant, il ne sera plus affiché.")
        return await self._apps(viewer, passwords, state, made=made, flash=flash)

    @post(APPS_PAGE + "/{password_id:uuid}/revocation", name="web:podcast-apps-revoke")
    async def revoke(
        self, password_id: FromPath[uuid.UUID], viewer: NamedDependency[CurrentUser],
        passwords: NamedDependency[AppPasswordService], state: State,
    ) -> Template:  # fmt: skip
        """Revoke an app password: the app is refused from its next request."""
        await passwords.revoke(viewer.id, password_id, utcnow())
        flash = Flash("Mot de passe révoqué : l’application ne peut plus se synchroniser, ses flux ne répondent plus.")
        return await self._apps(viewer, passwords, state, flash=flash)

    @page_route(LOGIN_PAGE + "/{token:str}", name="web:podcast-app-login")
    async def login_request(
        self, token: FromPath[str], viewer: NamedDependency[CurrentUser], flows: NamedDependency[LoginFlowService]
    ) -> Template:
        """« Autoriser l’application … ? » (a podcast app's Nextcloud Login Flow v2)."""
        flow = await flows.pending(token, utcnow())
        return page("podsync_login.html", viewer, app=flow.app_name, done=None)

    @post(LOGIN_PAGE + "/{token:str}", name="web:podcast-app-login-answer")
    async def answer_login_request(
        self, token: FromPath[str], data: URLEncodedBody[ApprovalForm], viewer: NamedDependency[CurrentUser],
        flows: NamedDependency[LoginFlowService],
    ) -> Template:  # fmt: skip
        """Approve (the app's next poll gets an app password named after it) or refuse."""
        now = utcnow()
        if data.action == "refuse":
            flow = await flows.pending(token, now)
            await flows.refuse(token, now)
            return page("podsync_login.html", viewer, app=flow.app_name, done="refused")
        flow = await flows.approve(token, viewer.id, now)
        return page("podsync_login.html", viewer, app=flow.app_name, done="approved")
