"""Dependency providers of the pages (the domains' services come from each domain's ``deps.py``)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from learning.accounts.auth import CurrentUser
from learning.web.security import viewer_of


async def provide_viewer(request: Request[Any, Any, Any]) -> CurrentUser | None:
    return await viewer_of(request)
