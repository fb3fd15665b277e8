"""Engine and session factory, built from settings by the app lifespan or a CLI command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import chain
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from learning.db import models as m

# Rows whose change alters what the public catalog, the feeds and media delivery answer.
PUBLIC_CONTENT = (m.Module, m.Lesson, m.WebinarSeries, m.WebinarSession, m.MediaAsset, m.PodcastFeed)
# The NOTIFY channels of the triggers (migrations); a session notes a change under the channel's name.
CONTENT_CHANGED = "learning_catalog"
ACCOUNTS_CHANGED = "learning_accounts"


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


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int | None = None) -> AsyncEngine:
    """The engine; ``max_overflow`` defaults to ``pool_size`` (the app passes 0: see below).

    A fixed pool (no overflow) is what a busy app process wants: an overflow connection is closed as soon
    as the pool is full again, so a steady load above ``pool_size`` opens and closes PostgreSQL connections
    all the time (a fork, authentication and cold caches on the server each time, and every statement
    prepared again). Requests beyond the pool wait for a connection instead.

    Instead of SQLAlchemy's pre-ping (for asyncpg, BEGIN + an empty query + ROLLBACK: three round trips on
    every checkout), a connection is checked without a round trip: asyncpg knows when PostgreSQL closed it
    (a restart, a killed backend), and such a connection is replaced at checkout. A connection that dies
    silently fails its next statement, which the error handlers turn into a 503, and SQLAlchemy then
    replaces every connection of the pool older than the failure.
    """
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        hide_parameters=True,  # SQL errors and logs never carry values (password hashes, tokens, e-mails)
        connect_args={"server_settings": {"application_name": "learning"}, "timeout": 5},
    )
    event.listen(engine.sync_engine.pool, "checkout", _replace_if_closed)
    return engine


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")  # the pool connects again


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the engine's pool as asyncpg itself, outside any SQLAlchemy transaction.

    For the few hot statements that are written in SQL anyway (progress ingestion): no session, no
    compilation and no result machinery, and each statement commits on its own (autocommit). asyncpg's
    errors come through as they are (``lib/errors.py`` answers them like SQLAlchemy's).
    """
    pooled = await engine.raw_connection()
    try:
        yield pooled.driver_connection
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool (its reset may have to talk to the server)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, sync_session_class=TrackingSession)
