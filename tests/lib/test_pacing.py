"""lib/pacing.py: what a pace remembers stays bounded, and a caller refused once is not refused for ever."""

from __future__ import annotations

import pytest

from learning.lib.errors import TooManyRequests
from learning.lib.pacing import Pacing


async def test_callers_remembered_stay_bounded_and_drained_ones_go_first() -> None:
    pacing = Pacing(per_second=0.001, burst=1, wait_seconds=0.01, detail="slow down", max_callers=3)
    for caller in range(10):
        await pacing.turn(caller)  # each caller's first request goes at once (its burst)
        assert len(pacing) <= 3
    # The last three are remembered: their next request would wait 1,000 s, past its bound: refused.
    with pytest.raises(TooManyRequests) as refused:
        await pacing.turn(9)
    assert refused.value.headers == {"Retry-After": "1000"}


async def test_a_refused_caller_goes_again_once_its_pace_allows() -> None:
    pacing = Pacing(per_second=50, burst=1, wait_seconds=0.001, detail="slow down")
    await pacing.turn("a")
    with pytest.raises(TooManyRequests):
        await pacing.turn("a")  # the next place is 20 ms away: past the 1 ms this caller may wait
    patient = Pacing(per_second=50, burst=1, wait_seconds=1, detail="slow down")
    await patient.turn("a")
    await patient.turn("a")  # waits its 20 ms, then goes
