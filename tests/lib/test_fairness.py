"""Each client its share of the event loop (lib/fairness.py): one client's flood waits in its own queue.

Issue 17's benchmark: one client keeping 100 registrations in flight (each answered 429 in a fraction of a
millisecond) raised other clients' p99 nineteenfold, because the loop took the flood's 100 requests in turn
before anyone else's next one.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import httpx

from learning.app import create_app
from learning.config import Settings
from learning.lib.fairness import PACE_AFTER, PENALTY_INTERVAL_SECONDS, PENALTY_MAX_SECONDS, ClientShare
from tests.helpers.database import sql
from tests.helpers.live import live_server
from tests.helpers.locks import table_locked


class Gated:
    """An ASGI app whose requests wait at a gate; it records which clients' requests it works on at once."""

    def __init__(self, *, answer_before_gate: bool = False) -> None:
        self.gate = asyncio.Event()
        self.working: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.entered: list[str] = []
        self.answer_before_gate = answer_before_gate

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        client = scope["client"][0]
        self.entered.append(client)
        self.working[client] += 1
        self.most[client] = max(self.most[client], self.working[client])
        try:
            if self.answer_before_gate:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            await self.gate.wait()
            if not self.answer_before_gate:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok", "more_body": False})
        finally:
            self.working[client] -= 1


async def _call(
    app: Any, client: str, method: str = "GET", path: str = "/api/v1/ping"
) -> tuple[int, dict[str, str], bytes]:
    scope = {"type": "http", "method": method, "path": path, "client": (client, 1234), "headers": []}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    headers = {name.decode(): value.decode() for name, value in start.get("headers", [])}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


async def _until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 — the condition is the tasks' state, not an event
            await asyncio.sleep(0)  # one turn of the loop: lets the requests move on


def test_a_flooding_client_waits_in_its_own_queue_and_others_go_first() -> None:
    async def scenario() -> None:
        inner = Gated()
        app = ClientShare(inner, concurrency=4, wait_seconds=30, waiting_limit=1000)
        flood = [asyncio.create_task(_call(app, "203.0.113.9")) for _ in range(100)]
        await _until(lambda: inner.working["203.0.113.9"] == 4)
        other = asyncio.create_task(_call(app, "198.51.100.7"))
        await _until(lambda: inner.working["198.51.100.7"] == 1)
        # The other client's request reached the app while 96 of the flood's still waited their turn.
        assert inner.entered.count("203.0.113.9") == 4
        inner.gate.set()
        answers = await asyncio.gather(*flood, other)
        assert [status for status, _, _ in answers] == [200] * 101
        assert inner.most == {"203.0.113.9": 4, "198.51.100.7": 1}
        assert app.lanes() == 0  # no memory kept for clients with nothing in flight

    asyncio.run(scenario())


def test_a_wait_past_its_bound_or_a_full_queue_is_a_429_problem() -> None:
    async def scenario() -> None:
        inner = Gated()
        app = ClientShare(inner, concurrency=1, wait_seconds=0.2, waiting_limit=2)
        first = asyncio.create_task(_call(app, "203.0.113.9"))
        await _until(lambda: inner.working["203.0.113.9"] == 1)
        waiting = [asyncio.create_task(_call(app, "203.0.113.9")) for _ in range(2)]
        await _until(lambda: sum(len(lane.waiting) for lane in app._lanes.values()) == 2)
        status, headers, body = await _call(app, "203.0.113.9")  # a third would wait: refused at once
        assert (status, headers["content-type"], headers["retry-after"]) == (429, "application/problem+json", "1")
        problem = json.loads(body)
        assert (problem["status"], problem["title"]) == (429, "Too Many Requests")
        assert "at once" in problem["detail"]
        for status, headers, _ in await asyncio.gather(*waiting):  # their bounded wait ran out
            assert (status, headers["retry-after"]) == (429, "1")
        inner.gate.set()
        assert (await first)[0] == 200
        assert app.refused == 3
        assert app.lanes() == 0

    asyncio.run(scenario())


def test_a_request_leaves_its_place_when_its_answer_starts() -> None:
    # A long download (its body still streaming) does not hold back the client's next requests.
    async def scenario() -> None:
        inner = Gated(answer_before_gate=True)
        app = ClientShare(inner, concurrency=1, wait_seconds=30, waiting_limit=10)
        streams = [asyncio.create_task(_call(app, "203.0.113.9")) for _ in range(3)]
        await _until(lambda: inner.working["203.0.113.9"] == 3)  # all three answering at once
        inner.gate.set()
        assert [answer[0] for answer in await asyncio.gather(*streams)] == [200] * 3

    asyncio.run(scenario())


def test_exempt_requests_are_not_counted() -> None:
    async def scenario() -> None:
        inner = Gated()
        app = ClientShare(
            inner, concurrency=1, wait_seconds=30, waiting_limit=0, exempt=lambda s: s["method"] == "PATCH"
        )
        patches = [asyncio.create_task(_call(app, "203.0.113.9", "PATCH", "/x")) for _ in range(3)]
        await _until(lambda: inner.working["203.0.113.9"] == 3)
        inner.gate.set()
        assert [answer[0] for answer in await asyncio.gather(*patches)] == [200] * 3

    asyncio.run(scenario())


def test_the_app_gives_each_client_its_share(settings: Settings) -> None:
    # Wired in front of the app: with one place per client and no queue, a client's second request at once
    # is refused while another client (told apart by a trusted proxy's X-Forwarded-For) is served.
    shared = settings.model_copy(
        update={"client_concurrency": 1, "client_waiting_limit": 0, "trusted_proxies": ["127.0.0.1/32"]}
    )
    url = settings.require_database_url()
    waiting_on_a_lock = (
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with live_server(create_app(shared)) as base:

        async def scenario() -> tuple[int, int, int]:
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                me, other = {"X-Forwarded-For": "203.0.113.9"}, {"X-Forwarded-For": "198.51.100.7"}
                with table_locked(url, "module"):
                    slow = asyncio.create_task(http.get("/api/v1/modules?uncached=1", headers=me))
                    async with asyncio.timeout(20):
                        while (await asyncio.to_thread(sql, url, waiting_on_a_lock))[0]["n"] < 1:  # noqa: ASYNC110
                            await asyncio.sleep(0.02)  # the read has not reached the lock yet
                    again = await http.get("/api/v1/ping", headers=me)
                    elsewhere = await http.get("/api/v1/ping", headers=other)
                return again.status_code, elsewhere.status_code, (await slow).status_code

        again, elsewhere, slow = asyncio.run(scenario())
    assert (again, elsewhere, slow) == (429, 200, 200)


class Refusing(Gated):
    """Answers 429 with Retry-After 30 to the requests whose path says so (a quota, as the app's limits do)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/refused":
            await send({"type": "http.response.start", "status": 429, "headers": [(b"retry-after", b"30")]})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await super().__call__(scope, receive, send)


def test_a_client_answered_429_is_paced_until_its_penalty_ends() -> None:
    # A flooder ignoring Retry-After on 4 connections (fewer than its places) kept the loop half busy with
    # requests the app refused one by one (issue 17's benchmark: other clients' p99 ×17). Once it has been
    # refused again and again, it has one place and one request per interval reaches the app; the rest are
    # refused here, at once.
    async def scenario() -> None:
        now = [1000.0]
        inner = Refusing()
        app = ClientShare(inner, concurrency=4, wait_seconds=30, waiting_limit=100, clock=lambda: now[0])
        for _ in range(PACE_AFTER):  # the app's own 429s, one after the other: Retry-After ignored
            assert (await _call(app, "203.0.113.9", path="/refused"))[0] == 429
        first = asyncio.create_task(_call(app, "203.0.113.9"))
        await _until(lambda: inner.working["203.0.113.9"] == 1)
        too_soon = await asyncio.gather(*[_call(app, "203.0.113.9") for _ in range(3)])
        assert [(status, headers["retry-after"]) for status, headers, _ in too_soon] == [(429, "1")] * 3
        others = [asyncio.create_task(_call(app, "198.51.100.7")) for _ in range(4)]
        await _until(lambda: inner.working["198.51.100.7"] == 4)  # other clients are not paced
        now[0] += PENALTY_INTERVAL_SECONDS * 1.5
        second = asyncio.create_task(_call(app, "203.0.113.9"))  # its turn: waits for the one place
        await _until(lambda: len(app._lanes["203.0.113.9"].waiting) == 1)
        inner.gate.set()
        assert [answer[0] for answer in await asyncio.gather(first, second, *others)] == [200] * 6
        assert inner.most["203.0.113.9"] == 1
        assert inner.entered.count("203.0.113.9") == 2

        now[0] += PENALTY_MAX_SECONDS  # the penalty is over (a Retry-After of 30 s counts 5 s at most)
        inner.gate = asyncio.Event()
        again = [asyncio.create_task(_call(app, "203.0.113.9")) for _ in range(4)]
        await _until(lambda: inner.working["203.0.113.9"] == 4)
        inner.gate.set()
        assert [answer[0] for answer in await asyncio.gather(*again)] == [200] * 4
        assert app._admitted == {}  # nothing kept about a client no longer penalized

    asyncio.run(scenario())


def test_one_429_now_and_then_changes_nothing_for_the_clients_other_requests() -> None:
    # A wrong password or a quota reached once: the page's next requests (a browser sends six at once) go on.
    async def scenario() -> None:
        now = [1000.0]
        inner = Refusing()
        app = ClientShare(inner, concurrency=8, wait_seconds=30, waiting_limit=100, clock=lambda: now[0])
        for _ in range(PACE_AFTER - 1):
            assert (await _call(app, "203.0.113.9", path="/refused"))[0] == 429
            now[0] += 1
        page = [asyncio.create_task(_call(app, "203.0.113.9")) for _ in range(6)]
        await _until(lambda: inner.working["203.0.113.9"] == 6)
        inner.gate.set()
        assert [answer[0] for answer in await asyncio.gather(*page)] == [200] * 6
        now[0] += PENALTY_MAX_SECONDS  # quiet for a while: the strikes are forgotten
        assert (await _call(app, "203.0.113.9", path="/refused"))[0] == 429
        assert app._penalties["203.0.113.9"].strikes == 1

    asyncio.run(scenario())


def test_remembered_penalties_stay_bounded() -> None:
    async def scenario() -> None:
        app = ClientShare(Refusing(), concurrency=4, wait_seconds=30, waiting_limit=100, max_penalties=3)
        for n in range(10):
            await _call(app, f"203.0.113.{n}", path="/refused")
        assert list(app._penalties) == ["203.0.113.7", "203.0.113.8", "203.0.113.9"]

    asyncio.run(scenario())
