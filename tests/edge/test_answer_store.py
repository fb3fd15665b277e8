"""The answer store on its own: bounded in bytes with least-recently-used eviction, and one load and one render
for concurrent misses of the same answer (errors reach every waiter, an invalidation meanwhile is respected)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from learning.edge.answers import AnswerStore, Rendered, entry_bytes, strong_etag

BOUND = 256 * 1024


def document(size: int, fill: bytes = b"x") -> Rendered:
    body = fill * size
    return Rendered(body, strong_etag(body), "application/json", gzipped=body[: size // 4])


def listening() -> bool:
    return True


def test_the_store_never_holds_more_bytes_than_its_bound_and_drops_the_least_recently_used() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    stored: list[str] = []
    for n in range(400):  # far more than fits: each is about 12 KiB with its gzip copy
        key = f"/api/v1/modules/m{n}"
        answers.store(key, document(10_000, bytes([65 + n % 26])), answers.generation)
        stored.append(key)
        assert answers.used_bytes <= BOUND
        if n == 5:
            assert answers.lookup(stored[0]) is not None  # used now: the least recently used is stored[1]
    kept = [key for key in stored if answers.lookup(key) is not None]
    assert 0 < len(kept) == answers.entries < 30
    assert kept == stored[-len(kept) :]  # the newest ones survive; the early one read at n == 5 has gone since
    assert answers.used_bytes == sum(entry_bytes(key, document(10_000)) for key in kept)


def test_reading_an_answer_keeps_it_while_the_others_are_dropped() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    answers.store("/api/v1/modules/first", document(10_000), 0)
    for n in range(200):
        answers.store(f"/api/v1/modules/m{n}", document(10_000), 0)
        assert answers.lookup("/api/v1/modules/first") is not None  # the most recently used, every time
    assert answers.lookup("/api/v1/modules/m0") is None


def test_an_answer_larger_than_a_quarter_of_the_bound_is_not_kept() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    answers.store("/api/v1/modules/small", document(1_000), 0)
    answers.store("/feeds/modules/huge.xml", document(BOUND // 4), 0)
    assert answers.lookup("/feeds/modules/huge.xml") is None
    assert answers.lookup("/api/v1/modules/small") is not None  # and it pushed nothing out


def test_searches_cannot_evict_the_catalog() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    answers.store("/api/v1/modules", document(5_000), 0)
    for n in range(500):
        answers.store(f"/api/v1/search?q=w{n}", document(2_000), 0)
    assert answers.lookup("/api/v1/modules") is not None
    assert answers.used_bytes <= BOUND


class Counting:
    """A load and a render that count their calls; the render waits for ``release`` (in its worker thread)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.loads = 0
        self.renders = 0
        self.fail = fail
        self.rendering = threading.Event()
        self.release = threading.Event()

    async def load(self) -> str:
        self.loads += 1
        await asyncio.sleep(0)
        return "loaded"

    def render(self, loaded: str) -> Rendered:
        self.renders += 1
        self.rendering.set()
        assert self.release.wait(timeout=30)
        if self.fail:
            raise ValueError("the render failed")
        return document(100, loaded.encode())


async def _until(condition: threading.Event) -> None:
    for _ in range(3000):  # a deadline, polled: the render runs in another thread
        if condition.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_concurrent_misses_load_and_render_once_and_all_get_the_answer() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    counting = Counting()
    key = "/feeds/modules/m.xml"
    waiting = [asyncio.ensure_future(answers.document(key, counting.load, counting.render)) for _ in range(16)]
    await _until(counting.rendering)
    assert answers.flights.followers(key) == 15
    counting.release.set()
    results = await asyncio.gather(*waiting)
    assert (counting.loads, counting.renders) == (1, 1)
    assert len({result.body for result in results if isinstance(result, Rendered)}) == 1
    assert answers.lookup(key) is results[0]


async def test_a_failed_render_reaches_every_waiter_and_nothing_is_kept() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    counting = Counting(fail=True)
    key = "/feeds/modules/m.xml"
    waiting = [asyncio.ensure_future(answers.document(key, counting.load, counting.render)) for _ in range(4)]
    await _until(counting.rendering)
    counting.release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(outcome, ValueError) for outcome in outcomes)
    assert counting.renders == 1
    assert answers.lookup(key) is None
    assert answers.flights.followers(key) == 0  # landed: the next miss tries again


async def test_an_invalidation_during_a_render_is_respected() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    before, after = Counting(), Counting()
    key = "/feeds/modules/m.xml"
    old = asyncio.ensure_future(answers.document(key, before.load, before.render))
    await _until(before.rendering)
    answers.invalidate()  # the content changed while the old answer was being rendered
    new = asyncio.ensure_future(answers.document(key, after.load, after.render))
    await _until(after.rendering)  # a request after the change does not wait for the old answer
    before.release.set()
    await old
    assert answers.lookup(key) is None  # the old answer is not kept
    after.release.set()
    assert await new is answers.lookup(key)
    assert (before.renders, after.renders) == (1, 1)


async def test_an_early_answer_needs_no_render() -> None:
    answers = AnswerStore(listening, max_bytes=BOUND)
    counting = Counting()
    result = await answers.document("/feeds/modules/m.xml", counting.load, counting.render, lambda _: "304")
    assert (result, counting.loads, counting.renders) == ("304", 1, 0)
    assert answers.flights.followers("/feeds/modules/m.xml") == 0


@pytest.mark.parametrize("bound", [64 * 1024, 10 * 1024 * 1024])
def test_the_bound_is_the_setting(make_client: Any, bound: int) -> None:
    client = make_client(answer_cache_max_bytes=bound)
    assert client.app.state.edge.answers.max_bytes == bound
