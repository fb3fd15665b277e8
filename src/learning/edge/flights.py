"""Single flight: concurrent misses of one stored answer wait for one load and one render.

A miss for a key starts a flight (its leader); requests missing the same key while it is in the air join it
(followers) instead of reading the database and rendering again. Two phases:

- load: the leader reads what the answer needs, on the event loop with its own request's session, and shares it;
  each request then decides for itself whether it can answer early (a 304 before anything is rendered);
- render: the first request that needs the document starts it in a worker thread (the CPU-heavy part: XML or JSON,
  gzip), and every request that needs it awaits that one render.

A flight belongs to one generation of the store: a request arriving after an invalidation starts a new flight (its
answer must show the change), while those that joined the old one get its answer, as they would have without it.
An error reaches every request that waits for it; a leader that went away before loading (cancelled) leaves its
followers to load on their own (``Abandoned``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Abandoned(Exception):
    """The leader of a flight was cancelled before it loaded: a follower loads on its own."""


def retrieved(future: asyncio.Future[Any]) -> None:
    """Mark an outcome as seen: a failure nobody awaited any more is not logged at garbage collection."""
    if not future.cancelled():
        future.exception()


class Flight(Generic[T, R]):
    """One load, shared (``loaded``), and at most one render of it, shared (``rendering``)."""

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.loaded: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.loaded.add_done_callback(retrieved)
        self.rendering: asyncio.Future[R] | None = None
        self.followers = 0

    def fail(self, exc: BaseException) -> None:
        """The load failed: its error for every follower; a cancelled leader leaves them to load themselves."""
        if self.loaded.done():
            return
        if isinstance(exc, asyncio.CancelledError) or not isinstance(exc, Exception):
            self.loaded.set_exception(Abandoned())
        else:
            self.loaded.set_exception(exc)


class Flights:
    """The flights in the air, one per key at most."""

    def __init__(self) -> None:
        self._flying: dict[str, Flight[Any, Any]] = {}

    def join(self, key: str, generation: int) -> tuple[Flight[Any, Any], bool]:
        """The flight of ``key`` in this generation, and whether the caller leads it (starts it)."""
        flight = self._flying.get(key)
        if flight is not None and flight.generation == generation:
            flight.followers += 1
            return flight, False
        flight = Flight(generation)
        self._flying[key] = flight
        return flight, True

    def land(self, key: str, flight: Flight[Any, Any]) -> None:
        """``flight`` is over: the next miss of ``key`` starts a new one."""
        if self._flying.get(key) is flight:
            del self._flying[key]

    def followers(self, key: str) -> int:
        """How many requests joined the flight of ``key`` now in the air (0 when none is)."""
        flight = self._flying.get(key)
        return 0 if flight is None else flight.followers
