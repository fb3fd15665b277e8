"""Dependency providers of the feeds domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.feeds.render import fingerprint
from learning.feeds.repositories import FeedRepository
from learning.feeds.services import FeedService


def provide_feed_service(db_session: NamedDependency[AsyncSession], state: State) -> FeedService:
    settings = state.settings
    return FeedService(
        FeedRepository(db_session), settings.base_url, fingerprint(), page_items=settings.feed_page_items,
        owner=(settings.feed_owner_name, settings.feed_owner_email),
    )  # fmt: skip
