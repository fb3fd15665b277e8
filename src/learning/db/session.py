"""Engine and session factory, built from settings by the app lifespan or a CLI command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from itertools import chain
from typing import Any

import asyncpg
import msgspec
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
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


@dataclass(frozen=True)
class DatabaseLimits:
    """How long anything may wait on PostgreSQL (settings ``LEARNING_DATABASE_*_TIMEOUT_*``).

    The server ends a statement past ``statement_timeout_ms`` and a lock wait past ``lock_timeout_ms``; the
    client gives up one second after the statement timeout, for the case the server cannot answer at all
    (stopped, or a dead network path). A pool checkout and a new connection each wait a bounded time too.
    Every one of these ends in an outage error, which the problem handlers answer with 503 + Retry-After.
    """

    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 2000
    pool_timeout_seconds: float = 3.0
    connect_timeout_seconds: float = 3.0

    @property
    def command_timeout_seconds(self) -> float:
        return self.statement_timeout_ms / 1000 + 1.0

    def server_settings(self) -> dict[str, str]:
        return {"statement_timeout": str(self.statement_timeout_ms), "lock_timeout": str(self.lock_timeout_ms)}


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int | None = None, limits: DatabaseLimits | None = None
) -> AsyncEngine:
    """The engine; ``max_overflow`` defaults to ``pool_size`` (the app passes 0: see below).

    With ``limits`` (the app's engine), every connection carries the statement and lock timeouts, every
    statement a client-side deadline, and a checkout waits at most the pool timeout; without, the commands'
    engines (content sync, migrations) only bound the connection attempt.

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
    connect_args: dict[str, Any] = {"server_settings": {"application_name": "learning"}, "timeout": 5}
    pool_timeout = 30.0
    if limits is not None:
        connect_args["server_settings"].update(limits.server_settings())
        connect_args["timeout"] = limits.connect_timeout_seconds
        connect_args["command_timeout"] = limits.command_timeout_seconds  # asyncpg's default per statement
        pool_timeout = limits.pool_timeout_seconds
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=pool_timeout,
        hide_parameters=True,  # SQL errors and logs never carry values (password hashes, tokens, e-mails)
        connect_args=connect_args,
        # JSON columns read by msgspec (the same values as the standard library's, several times faster: a
        # feed of a thousand sessions reads a thousand speaker lists).
        json_deserializer=msgspec.json.decode,
    )
    event.listen(engine.sync_engine.pool, "checkout", _replace_if_closed)
    event.listen(engine.sync_engine, "handle_error", _drop_timed_out_connection)
    return engine


def _drop_timed_out_connection(context: ExceptionContext) -> None:
    # A statement the client gave up on leaves its connection waiting for the server's answer to the
    # cancel request: reusing it (even to roll back) would wait as long as the server is silent. Treated
    # as a disconnect, the connection is terminated and the pool replaces it. The same for a connection
    # asyncpg finds still inside an earlier, interrupted operation (InternalClientError).
    error: BaseException | None = context.original_exception
    for _ in range(3):
        if error is None:
            return
        if isinstance(error, TimeoutError | asyncpg.InternalClientError):
            context.is_disconnect = True
            return
        error = getattr(error, "orig", None) or error.__cause__


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
    except asyncpg.PostgresError:
        raise  # the server refused a statement: the connection is in a known state, reusable
    except BaseException as lost:
        # Lost, timed out or cancelled mid-statement: the connection may still be inside that operation
        # (asyncpg then refuses the next one: "another operation is in progress"). Never reused.
        pooled.invalidate(lost if isinstance(lost, Exception) else None)
        raise
    finally:
        await greenlet_spawn(pooled.close)  # back to the pool (its reset may have to talk to the server)


async def session_driver(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under ``session``'s transaction (begun if need be), for hand-written statements
    that must commit or roll back with the session's other changes (queued jobs, an upload's rows).

    Its statements skip SQLAlchemy entirely: the session's own state (pending objects) is not flushed first.
    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement: begun here if not yet, or these
    statements would each commit at once, outside the session's transaction (and survive its rollback)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    adapter: Any = raw.dbapi_connection  # AsyncAdapt_asyncpg_connection
    if not hasattr(adapter, "_transaction") or not hasattr(adapter, "_start_transaction"):
        raise RuntimeError("SQLAlchemy's asyncpg adapter no longer has _transaction/_start_transaction")
    if adapter._transaction is None:
        await adapter._start_transaction()
    driver: asyncpg.Connection = raw.driver_connection
    return driver


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False, sync_session_class=TrackingSession)
