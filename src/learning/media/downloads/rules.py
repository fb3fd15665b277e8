"""The counting rules, pure: which responses count, who the listener is, one minute of audio, the union
of the ranges requested and the rolling 24-hour window (IAB v2, see the package docstring)."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
SALT_RETENTION = timedelta(days=2)
_PROBE = ((0, 1),)


# --- what counts at all ---------------------------------------------------------------------------------
def served_ranges(method: str, size_bytes: int, ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """The inclusive byte ranges a response counts for, clipped to the file: none for a HEAD, an empty
    file or a ``Range: bytes=0-1`` probe."""
    if method.upper() != "GET" or size_bytes <= 0:
        return ()
    served = tuple(
        (start, min(end, size_bytes - 1)) for start, end in ranges if 0 <= start <= end and start < size_bytes
    )
    return () if served == _PROBE else served


# --- the listener -----------------------------------------------------------------------------------------
def listener_hash(salt: bytes, ip: str, user_agent: str) -> str:
    return hashlib.sha256(salt + ip.encode() + b"\x00" + user_agent.encode("utf-8", "replace")).hexdigest()


@functools.lru_cache(maxsize=16384)
def normal_ip(ip: str) -> str:
    """One spelling per address (IPv6 compressed, IPv4-mapped IPv6 as IPv4). Kept for the addresses seen last:
    a player sends many ranges, and parsing was a fifth of the batch's preparation."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


# --- one minute of audio, the union of the ranges, the window ----------------------------------------------
def threshold_bytes(size_bytes: int, duration_seconds: float | None) -> int:
    """Bytes a listener must request: one minute of audio, or the whole file (shorter or of unknown length)."""
    if not duration_seconds or duration_seconds <= 0:
        return size_bytes
    return min(size_bytes, math.ceil(size_bytes * 60 / duration_seconds))


def covered_bytes(ranges: Iterable[tuple[int, int]], size_bytes: int) -> int:
    """Bytes in the union of inclusive byte ranges, clipped to the file."""
    clipped = sorted((max(0, start), min(end, size_bytes - 1)) for start, end in ranges)
    total, current_start, current_end = 0, 0, -1
    for start, end in clipped:
        if end < start:
            continue
        if start > current_end + 1:
            total += current_end - current_start + 1
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    return total + current_end - current_start + 1


@dataclass(frozen=True, slots=True)
class Hit:
    """One GET that served bytes, as buffered in memory (the IP never goes further than this)."""

    asset_id: uuid.UUID
    size_bytes: int
    duration_seconds: float | None
    ip: str
    user_agent: str
    app: str
    at: datetime
    ranges: tuple[tuple[int, int], ...]


Served = tuple[datetime, int, int]  # (requested_at, range_start, range_end) of one stored request row


def count_downloads(
    hits: Sequence[Hit], requests: Sequence[Served], window_starts: Iterable[datetime]
) -> list[tuple[Hit, datetime]]:
    """Which ``hits`` (one listener, one asset) complete a download, with the start of its window.

    ``requests`` are the listener's stored rows (``hits`` included); ``window_starts`` those of the
    downloads already counted for this listener and asset.
    """
    starts = list(window_starts)
    counted: list[tuple[Hit, datetime]] = []
    for hit in sorted(hits, key=lambda h: h.at):
        moment = hit.at
        if any(abs(start - moment) < WINDOW for start in starts):
            continue  # inside a window that already has its download
        floor = max((start + WINDOW for start in starts if start + WINDOW <= moment), default=moment - WINDOW)
        window = [row for row in requests if moment - WINDOW < row[0] <= moment and row[0] >= floor]
        served = covered_bytes(((start, end) for _, start, end in window), hit.size_bytes)
        if window and served >= threshold_bytes(hit.size_bytes, hit.duration_seconds):
            start = min(row[0] for row in window)
            starts.append(start)
            counted.append((hit, start))
    return counted
