"""``segments.add`` (the xAPI export's running union, one segment at a time) gives what ``merge`` gives."""

from __future__ import annotations

import random

import pytest

from learning.progress.segments import add, merge


@pytest.mark.parametrize("seed", range(20))
def test_adding_segments_one_at_a_time_gives_the_same_union_as_merging(seed: int) -> None:
    rng = random.Random(seed)
    running: list[list[float]] = []
    expected: list[list[float]] = []
    for _ in range(200):
        start = rng.choice([float(rng.randint(0, 300)), rng.random() * 300])
        end = start + rng.choice([float(rng.randint(1, 20)), rng.random() * 5 + 0.001])  # touching ends included
        add(running, start, end)
        expected = merge(expected, start, end)
        assert running == expected


def test_a_segment_joins_the_ones_it_touches_and_spans() -> None:
    running = [[0.0, 1.0], [2.0, 3.0], [5.0, 6.0], [8.0, 9.0]]
    add(running, 1.0, 5.5)
    assert running == [[0.0, 6.0], [8.0, 9.0]]
    add(running, 7.0, 7.5)
    assert running == [[0.0, 6.0], [7.0, 7.5], [8.0, 9.0]]
    add(running, 10.0, 11.0)
    assert running == [[0.0, 6.0], [7.0, 7.5], [8.0, 9.0], [10.0, 11.0]]
