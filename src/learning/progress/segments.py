"""Watched segments: their union and its length (what progress and xAPI both use)."""

from __future__ import annotations


def merge(segments: list[list[float]], start: float, end: float) -> list[list[float]]:
    """The union of ``segments`` and [start, end], sorted, overlapping or touching ones joined."""
    merged: list[list[float]] = []
    for low, high in sorted([*segments, [start, end]]):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def watched(segments: list[list[float]]) -> float:
    return sum(high - low for low, high in segments)
