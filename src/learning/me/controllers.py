"""HTTP endpoints of a learner's account as a whole: its export, and deleting it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_204_NO_CONTENT

from learning.accounts.auth import CurrentUser, client_ip
from learning.accounts.deps import provide_account_service
from learning.accounts.services import AccountService
from learning.lib.guards import requires_json_body
from learning.me.deps import provide_account_export
from learning.me.services import AccountExport


class AccountDeletion(msgspec.Struct, forbid_unknown_fields=True):
    password: str  # given again: deleting cannot be undone


class AccountController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]
    guards = [requires_json_body]
    dependencies = {
        "export": Provide(provide_account_export, sync_to_thread=False),
        "accounts": Provide(provide_account_service, sync_to_thread=False),
    }

    @get("/export", operation_id="ExportMyData")
    async def export(
        self, request: Request[CurrentUser, Any, Any], export: NamedDependency[AccountExport]
    ) -> Response[dict[str, Any]]:
        """Everything the site keeps about you, as one JSON document: account, enrollments, progress lesson by
        lesson, webinar registrations, xAPI statements."""
        document = await export.export(request.user.id)
        filename = f"mes-donnees-{request.user.id}.json"
        return Response(document, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @post("/deletion", operation_id="DeleteMyAccount", status_code=HTTP_204_NO_CONTENT,
          opt={"problems": [401, 409, 429]})  # fmt: skip
    async def delete(
        self,
        data: JSONBody[AccountDeletion],
        request: Request[CurrentUser, Any, Any],
        accounts: NamedDependency[AccountService],
    ) -> None:
        """Delete your account and everything attached to it (progress, registrations, tokens), with your password
        (export your data first: nothing can be recovered)."""
        await accounts.delete_own(request.user.id, password=data.password, client_ip=client_ip(request))
