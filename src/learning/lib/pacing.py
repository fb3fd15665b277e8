"""Pacing a caller's costly requests: a steady rate after a burst, the others waiting their turn (bounded).

Some answers cost the process far more than others (an xAPI export page: about ten milliseconds of the event
loop for 500 statements). Fairness by number of requests (``lib/fairness.py``) cannot see that: one caller
asking such pages back to back keeps the loop half busy and every other client's answers several times
slower (bench/run limits). ``Pacing`` lets each caller ``burst`` of them at once, then ``per_second``: a
further request waits its turn (``aiolimiter``'s leaky bucket, first come first served), at most
``wait_seconds``, then gets 429 with Retry-After. A client following ``more`` links just goes at the pace;
one that ignores it waits or is refused, never costing more than the pace.

Per process, like the loop it protects. What is remembered is bounded (``max_callers``; callers whose bucket
has drained entirely are forgotten first, as they are no different from new ones, then the oldest).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable

import anyio
from aiolimiter import AsyncLimiter

from learning.lib.errors import TooManyRequests


class Pacing:
    def __init__(
        self, *, per_second: float, burst: int, wait_seconds: float, detail: str, max_callers: int = 10_000
    ) -> None:
        self.per_second = per_second
        self.burst = burst
        self.wait_seconds = wait_seconds
        self.detail = detail
        self.max_callers = max_callers
        self._buckets: OrderedDict[Hashable, AsyncLimiter] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    async def turn(self, caller: Hashable) -> None:
        """Return when ``caller`` may go on; ``TooManyRequests`` (429) past ``wait_seconds`` of waiting."""
        bucket = self._bucket(caller)
        with anyio.move_on_after(self.wait_seconds):
            await bucket.acquire()
            return
        raise TooManyRequests(self.detail, retry_after=math.ceil(1 / self.per_second))

    def _bucket(self, caller: Hashable) -> AsyncLimiter:
        bucket = self._buckets.get(caller)
        if bucket is not None:
            self._buckets.move_to_end(caller)
            return bucket
        if len(self._buckets) >= self.max_callers:
            for drained in [known for known, b in self._buckets.items() if b.has_capacity(self.burst)]:
                del self._buckets[drained]
            while len(self._buckets) >= self.max_callers:
                self._buckets.popitem(last=False)
        bucket = self._buckets[caller] = AsyncLimiter(self.burst, self.burst / self.per_second)
        return bucket
