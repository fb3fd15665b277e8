"""Each client its share of the event loop: at most a few of one client's requests worked on at once.

The event loop serves whatever is ready, in turn: a client keeping 100 requests in flight (even ones answered
429 in a fraction of a millisecond) puts 100 steps ahead of every other client's next one. This ASGI layer,
after ``lib/proxies.py`` has named the client (``scope["client"]``), lets at most ``concurrency`` requests of
one client be worked on at once in this process; that client's further requests wait their turn in its own
queue (first come, first served), which costs the loop nothing. The wait is bounded: past ``wait_seconds``,
or with ``waiting_limit`` requests of that client already waiting, the answer is 429 + Retry-After.

A client that keeps being answered 429 (by any limit: registrations, progress quota, this layer) —
``PACE_AFTER`` refusals, each less than ``PENALTY_MAX_SECONDS`` after the previous one — ignores Retry-After:
until it stops for that long, it gets one place only, and one request every ``PENALTY_INTERVAL_SECONDS``
reaches the app; the others are answered 429 here, for a fraction of what the app's own refusal costs. One
429 now and then (a wrong password, a quota reached once) changes nothing for the client's other requests;
a client ignoring ``Retry-After`` as fast as it can takes a small, fixed share of the loop, not half of it.
What is remembered is bounded (``max_penalties`` clients; the oldest go first).

A request holds its place until its answer starts: a long media download or a slow reader does not keep the
client's other requests waiting. Requests whose body may stream for minutes (tus PATCH) are let through (they
have their own bounds: the body timeout and the newer PATCH superseding the older).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from learning.lib.errors import problem_document

logger = logging.getLogger("learning.fairness")

REFUSAL_DETAIL = "Too many requests at once from this address; try again shortly."
RETRY_AFTER_SECONDS = 1
PENALTY_MAX_SECONDS = 5  # renewed by each 429: a client that keeps coming back keeps it
PACE_AFTER = 10  # refusals in a row (each within the period of the last) before a client is paced
PENALTY_INTERVAL_SECONDS = 0.05  # a penalized client: one request to the app per interval (20 a second)


@dataclass(slots=True)
class _Lane:
    """One client's requests in this process: how many are worked on, and the ones waiting their turn."""

    working: int = 0
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)


@dataclass(slots=True)
class _Penalty:
    until: float  # the strikes are forgotten at this moment, unless another 429 comes first
    strikes: int


class ClientShare:
    """The ASGI layer (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        concurrency: int,
        wait_seconds: float,
        waiting_limit: int,
        exempt: Callable[[Scope], bool] = lambda _: False,
        max_penalties: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.concurrency = concurrency
        self.wait_seconds = wait_seconds
        self.waiting_limit = waiting_limit
        self.exempt = exempt
        self._lanes: dict[str, _Lane] = {}
        self._penalties: OrderedDict[str, _Penalty] = OrderedDict()  # clients answered 429 lately
        self._admitted: dict[str, float] = {}  # penalized client → when its last request reached the app
        self._max_penalties = max_penalties
        self._clock = clock
        self.refused = 0  # since start: what the log and the tests read

    def lanes(self) -> int:
        """Clients with a request worked on or waiting (a lane goes when its client has none)."""
        return len(self._lanes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or self.exempt(scope):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else ""
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane()
        entered = self._paced(key)  # a penalized client's request too soon after its last: refused at once
        if entered:
            try:
                await self._enter(lane, self._places(key))
            except TimeoutError:
                entered = False
        if not entered:
            self._forget_if_idle(key, lane)
            self.refused += 1
            self._penalize(key, RETRY_AFTER_SECONDS)
            await _refuse(send)
            return
        held = True

        def leave() -> None:
            nonlocal held
            if held:
                held = False
                self._leave(lane, self._places(key))

        async def send_and_leave(message: Message) -> None:
            if message["type"] == "http.response.start":
                leave()  # the answer is decided: the client's next request may start
                if message["status"] == 429:
                    self._penalize(key, _retry_after(message.get("headers", [])))
            await send(message)

        try:
            await self.app(scope, receive, send_and_leave)
        finally:
            leave()
            self._forget_if_idle(key, lane)

    def _paced_now(self, key: str) -> bool:
        """Whether this client is paced now (see the module's docstring)."""
        penalty = self._penalties.get(key)
        if penalty is None:
            return False
        if penalty.until <= self._clock():
            del self._penalties[key]
            self._admitted.pop(key, None)
            return False
        return penalty.strikes >= PACE_AFTER

    def _places(self, key: str) -> int:
        """How many of this client's requests may be worked on at once now."""
        return 1 if self._paced_now(key) else self.concurrency

    def _paced(self, key: str) -> bool:
        """Whether this request may reach the app now: always, but for a paced client one per interval."""
        if not self._paced_now(key):
            self._admitted.pop(key, None)
            return True
        now = self._clock()
        last = self._admitted.get(key)
        if last is not None and now - last < PENALTY_INTERVAL_SECONDS:
            return False
        self._admitted[key] = now
        return True

    def _penalize(self, key: str, seconds: float) -> None:
        """``key`` was just answered 429 (asked to wait ``seconds``): one more strike."""
        now = self._clock()
        last = self._penalties.pop(key, None)
        strikes = last.strikes + 1 if last is not None and last.until > now else 1
        until = now + min(max(seconds, RETRY_AFTER_SECONDS), PENALTY_MAX_SECONDS)
        self._penalties[key] = _Penalty(until, strikes)
        while len(self._penalties) > self._max_penalties:
            forgotten, _ = self._penalties.popitem(last=False)
            self._admitted.pop(forgotten, None)

    async def _enter(self, lane: _Lane, places: int) -> None:
        """Take a place among the client's requests worked on, waiting for one; TimeoutError past the bound
        (or at once when too many of the client's requests already wait)."""
        if lane.working < places and not lane.waiting:
            lane.working += 1
            return
        if len(lane.waiting) >= self.waiting_limit:
            raise TimeoutError
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane.waiting.append(turn)
        try:
            async with asyncio.timeout(self.wait_seconds):
                await turn
        except BaseException:  # the wait ran out, or the request was cancelled
            if turn.done() and not turn.cancelled():  # handed a place just as the wait ended: give it on
                self._leave(lane, places)
            elif turn in lane.waiting:
                lane.waiting.remove(turn)
            raise
        # ``_leave`` counted this request as working when it handed over the place

    def _leave(self, lane: _Lane, places: int) -> None:
        """Free one place, and hand the free places (the client may now have fewer, or more) to the requests
        waiting their turn, first come first."""
        lane.working -= 1
        while lane.waiting and lane.working < places:
            turn = lane.waiting.popleft()
            if not turn.done():
                lane.working += 1  # counted for the request this wakes
                turn.set_result(None)

    def _forget_if_idle(self, key: str, lane: _Lane) -> None:
        if lane.working == 0 and not lane.waiting and self._lanes.get(key) is lane:
            del self._lanes[key]


def _retry_after(headers: Iterable[tuple[bytes, bytes]]) -> float:
    for name, value in headers:
        if name.lower() == b"retry-after":
            return float(value) if value.isdigit() else RETRY_AFTER_SECONDS
    return RETRY_AFTER_SECONDS


async def _refuse(send: Send) -> None:
    body = problem_document(429, detail=REFUSAL_DETAIL)
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
