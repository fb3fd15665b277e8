"""Watched segments: their union and its length (what progress and xAPI both use)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right


def merge(segments: list[list[float]], start: float, end: float) -> list[list[float]]:
    """The union of ``segments`` and [start, end], sorted, overlapping or touching ones joined."""
    merged: list[list[float]] = []
    for low, high in sorted([*segments, [start, end]]):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def add(segments: list[list[float]], start: float, end: float) -> None:
    """Add [start, end] to ``segments`` in place, where ``segments`` is what ``merge`` makes (sorted, neither
    overlapping nor touching): the same union as ``merge``, in logarithmic time plus the segments it joins,
    for a caller adding many segments one at a time."""
    first = bisect_left(segments, start, key=lambda segment: segment[1])  # the first one ending at or after start
    after = bisect_right(segments, end, key=lambda segment: segment[0])  # the first one starting after end
    if first < after:
        start, end = min(start, segments[first][0]), max(end, segments[after - 1][1])
    segments[first:after] = [[start, end]]


def watched(segments: list[list[float]]) -> float:
    return sum(high - low for low, high in segments)
