"""Engine and session factory, built from settings by the app lifespan or a CLI command."""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from learning.db import models as m

# Rows whose change alters what the public catalog, the feeds and media delivery answer.
PUBLIC_CONTENT = (m.Module, m.Lesson, m.WebinarSeries, m.WebinarSession, m.MediaAsset, m.PodcastFeed)
CONTENT_CHANGED = "public_content_changed"
ACCOUNTS_CHANGED = "accounts_changed"


class TrackingSession(Session):
    """Notes in ``info`` when a flush touched public content or an account, so the process that made the
    change can drop its own cached answers and verified tokens at commit, before its next request (other
    processes hear NOTIFY)."""


@event.listens_for(TrackingSession, "after_flush")
def _note_content_changes(session: Session, _: Any) -> None:
    if any(isinstance(row, PUBLIC_CONTENT) for row in chain(session.new, session.dirty, session.deleted)):
        session.info[CONTENT_CHANGED] = True
    if any(isinstance(row, m.UserAccount) for row in chain(session.dirty, session.deleted)):
        session.info[ACCOUNTS_CHANGED] = True


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL (for asyncpg used directly: LISTEN, the job queue)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        hide_parameters=True,  # SQL errors and logs never carry values (password hashes, tokens, e-mails)
        connect_args={"server_settings": {"application_name": "learning"}, "timeout": 5},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, sync_session_class=TrackingSession)
