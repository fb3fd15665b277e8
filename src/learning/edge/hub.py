"""The one LISTEN/NOTIFY hub of a process: who must forget what when PostgreSQL says something changed.

Triggers send ``NOTIFY learning_catalog`` (catalog, feeds, media) and ``NOTIFY learning_accounts`` (accounts)
when a transaction that changed those tables commits. The hub keeps one connection listening on every
channel that has subscribers and calls them on each notification. It also calls every subscriber when the
connection is made or lost (anything may have changed meanwhile), and ``active`` is false while it is down:
caches must not store what they cannot hear being invalidated.

A change committed by this process calls ``changed(channel)`` at once: its next request must not wait for
the notification to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg

from learning.db.session import ACCOUNTS_CHANGED, CONTENT_CHANGED

logger = logging.getLogger("learning.edge")

CATALOG = CONTENT_CHANGED
ACCOUNTS = ACCOUNTS_CHANGED
RECONNECT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 5.0


class NotifyHub:
    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callable[[], None]]] = {}
        self._listening = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def subscribe(self, channel: str, changed: Callable[[], None]) -> None:
        """Call ``changed`` on each NOTIFY on ``channel`` (and when listening starts or stops). Before ``start``."""
        self._subscribers.setdefault(channel, []).append(changed)

    def changed(self, channel: str) -> None:
        """This process committed a change on ``channel``: its subscribers forget now."""
        for subscriber in self._subscribers.get(channel, ()):
            subscriber()

    @property
    def active(self) -> bool:
        """Whether notifications are being heard: only then may anything be remembered."""
        return self._listening

    async def start(self, dsn: str) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._listen_forever(dsn), name="notify-hub")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._everything_changed()

    async def _listen_forever(self, dsn: str) -> None:
        while not self._stopping.is_set():
            lost = asyncio.Event()
            connection: Any = None
            try:
                connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_SECONDS)
                connection.add_termination_listener(lambda _, event=lost: event.set())
                for channel in self._subscribers:
                    await connection.add_listener(channel, lambda _c, _p, name, _m: self.changed(name))
                self._everything_changed()  # anything may have changed while nobody listened
                self._listening = True
                await lost.wait()
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                logger.warning("notification listener unavailable: %s", type(exc).__name__)
            finally:
                self._listening = False
                self._everything_changed()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RECONNECT_SECONDS)

    def _everything_changed(self) -> None:
        for channel in self._subscribers:
            self.changed(channel)
