"""Admin endpoints over accounts (admin role required)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, delete, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from learning.accounts.auth import CurrentUser, requires_admin
from learning.accounts.deps import provide_account_service
from learning.accounts.schemas import UserRead, user_read
from learning.accounts.services import AccountService
from learning.lib.pagination import Page, PageRequest, provide_page_request
from learning.progress.deps import provide_progress_service
from learning.progress.events import ProgressService
from learning.progress.schemas import (
    XAPI_DEFAULT_LIMIT,
    XAPI_MAX_LIMIT,
    XapiCursor,
    XapiLimit,
    XapiStatements,
    statement_result,
)


class AdminUserController(Controller):
    path = "/api/v1/admin/users"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = {
        "accounts": Provide(provide_account_service, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
        "progress": Provide(provide_progress_service, sync_to_thread=False),
    }

    @get("/", operation_id="ListUsers")
    async def list_users(
        self, accounts: NamedDependency[AccountService], page: NamedDependency[PageRequest]
    ) -> Page[UserRead]:
        """Every account, oldest first."""
        users, total = await accounts.list(limit=page.limit, offset=page.offset)
        return Page(items=[user_read(u) for u in users], total=total, limit=page.limit, offset=page.offset)

    @get("/{user_id:uuid}", operation_id="GetUser")
    async def get_user(self, user_id: FromPath[uuid.UUID], accounts: NamedDependency[AccountService]) -> UserRead:
        """One account."""
        return user_read(await accounts.get(user_id))

    @get("/{user_id:uuid}/xapi/statements", operation_id="GetLearnerXapiStatements", opt={"problems": [400, 429]})
    async def learner_statements(
        self,
        request: Request[CurrentUser, Any, Any],
        user_id: FromPath[uuid.UUID],
        accounts: NamedDependency[AccountService],
        progress: NamedDependency[ProgressService],
        state: State,
        limit: XapiLimit = XAPI_DEFAULT_LIMIT,
        cursor: XapiCursor = None,
    ) -> XapiStatements:
        """One learner's activity as xAPI statements (the same export, and pages, the learner gets)."""
        await accounts.get(user_id)  # 404 for an unknown account
        limit = limit or XAPI_MAX_LIMIT
        page, following = await progress.statements(
            user_id, state.settings.base_url, limit=limit, cursor=cursor, caller=request.user.id
        )
        return statement_result(page, following, f"{self.path}/{user_id}/xapi/statements", limit)

    @delete("/{user_id:uuid}", operation_id="DeleteUser", opt={"problems": [409]})
    async def delete_user(self, user_id: FromPath[uuid.UUID], accounts: NamedDependency[AccountService]) -> None:
        """Delete an account; its tokens stop working (its private feeds answer 410 Gone). The last admin cannot
        be deleted (409)."""
        await accounts.delete(user_id)
