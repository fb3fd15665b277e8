"""HTTP range requests and conditional requests (RFC 9110 §12, §13 and §14), independent of any framework.

``evaluate`` takes the request's headers and what we know of the representation (size, strong ETag,
last modification) and answers what to send: 200, 206 with one or several ranges, 304, 412 or 416. It is
the one evaluator of preconditions and ranges: the edge (``learning.edge``) and the routes both call it.

Headers are parsed defensively: numbers are ASCII digits of bounded length, q-values follow RFC 9110
§12.4.2; a header that does not parse is ignored, never an error.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from enum import IntEnum

MAX_RANGES = 16  # more than this is treated as no Range at all (RFC 9110 §14.2 allows ignoring it)
MAX_DIGITS = 18  # byte positions beyond 10**18 cannot be real: such a header is ignored (and int() stays cheap)
# ASCII digits only: ``\d`` would also take « ² » or Arabic-Indic digits, which int() then refuses or reads.
_SPEC = re.compile(rf"^[ \t]*([0-9]{{0,{MAX_DIGITS}}})[ \t]*-[ \t]*([0-9]{{0,{MAX_DIGITS}}})[ \t]*$")
_QVALUE = re.compile(r"^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``start`` to ``end`` inclusive."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(Exception):
    """A syntactically valid Range header none of whose ranges overlaps the representation."""


def parse_ranges(header: str | None, size: int) -> list[ByteRange] | None:
    """The satisfiable ranges of a ``Range`` header, sorted and coalesced; ``None`` to ignore the header.

    Raises ``Unsatisfiable`` when the header is valid but no range overlaps ``size`` bytes.
    """
    if not header:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes" or not specs.strip():
        return None
    ranges: list[ByteRange] = []
    parts = specs.split(",")
    if len(parts) > MAX_RANGES * 4:
        return None
    for part in parts:
        match = _SPEC.match(part)
        if match is None:
            return None  # one invalid spec makes the whole header invalid: ignore it
        first, last = match.group(1), match.group(2)
        if not first and not last:
            return None
        if first:
            start = int(first)
            end = int(last) if last else size - 1
            if last and end < start:
                return None
            if start < size:
                ranges.append(ByteRange(start, min(end, size - 1)))
        else:
            suffix = int(last)
            if suffix > 0 and size > 0:
                ranges.append(ByteRange(max(0, size - suffix), size - 1))
    if not ranges:
        raise Unsatisfiable
    merged = _coalesce(ranges)
    return merged if len(merged) <= MAX_RANGES else None


def _coalesce(ranges: list[ByteRange]) -> list[ByteRange]:
    ordered = sorted(ranges, key=lambda r: r.start)
    merged = [ordered[0]]
    for current in ordered[1:]:
        previous = merged[-1]
        if current.start <= previous.end + 1:
            merged[-1] = ByteRange(previous.start, max(previous.end, current.end))
        else:
            merged.append(current)
    return merged


def qvalue(params: str) -> float | None:
    """The weight in a list element's parameters (``;q=0.5``): 1 when absent, None when malformed."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            value = value.strip()
            return float(value) if _QVALUE.match(value) else None
    return 1.0


@functools.lru_cache(maxsize=1024)  # clients send a handful of distinct values, over and over
def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header admits gzip (RFC 9110 §12.5.3).

    ``gzip`` (or its alias ``x-gzip``) named with a weight decides; otherwise ``*`` does; ``q=0`` refuses.
    An element whose weight is malformed is ignored.
    """
    if not header:
        return False
    named: float | None = None
    wildcard: float | None = None
    for part in header.split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip().lower()
        if coding not in {"gzip", "x-gzip", "*"}:
            continue
        weight = qvalue(params)
        if weight is None:
            continue
        if coding == "*":
            wildcard = weight if wildcard is None else max(wildcard, weight)
        else:
            named = weight if named is None else max(named, weight)
    chosen = named if named is not None else wildcard
    return chosen is not None and chosen > 0


def http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0), usegmt=True)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else None


def _etags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _weak_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    plain = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == plain for tag in _etags(header))


def _strong_match(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return not etag.startswith("W/") and any(tag == etag for tag in _etags(header))


class Outcome(IntEnum):
    FULL = 200
    PARTIAL = 206
    NOT_MODIFIED = 304
    PRECONDITION_FAILED = 412
    UNSATISFIABLE = 416


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    ranges: tuple[ByteRange, ...] = ()


_FULL = Decision(Outcome.FULL)


_CONDITIONAL_HEADERS = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"})


def evaluate(
    *,
    method: str,
    headers: Mapping[str, str],
    size: int,
    etag: str,
    last_modified: datetime | None,
    ranges: bool = True,
) -> Decision:
    """What to answer, following RFC 9110's order of evaluation (§13.2.2). ``headers`` are lower-case.

    Without a modification date, If-Modified-Since and If-Unmodified-Since are ignored (§13.1.3, §13.1.4);
    ``ranges=False`` is for representations served whole (catalog JSON, feeds): Range is ignored.
    """
    if not _CONDITIONAL_HEADERS.intersection(headers) and (method != "GET" or not ranges):
        return _FULL  # nothing to evaluate: the commonest case, answered at once
    modified = last_modified.replace(microsecond=0) if last_modified and last_modified.microsecond else last_modified
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _strong_match(if_match, etag):
            return Decision(Outcome.PRECONDITION_FAILED)
    elif modified is not None:
        since = _parse_date(headers.get("if-unmodified-since"))
        if since is not None and modified > since:
            return Decision(Outcome.PRECONDITION_FAILED)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if _weak_match(if_none_match, etag):
            return Decision(Outcome.NOT_MODIFIED)
    elif modified is not None:
        since = _parse_date(headers.get("if-modified-since"))
        if since is not None and modified <= since:
            return Decision(Outcome.NOT_MODIFIED)
    if method != "GET" or not ranges:  # range handling is defined for GET only
        return _FULL
    if_range = headers.get("if-range")
    if if_range is not None and (modified is None or not _if_range_holds(if_range.strip(), etag, modified)):
        return Decision(Outcome.FULL)
    try:
        parsed = parse_ranges(headers.get("range"), size)
    except Unsatisfiable:
        return Decision(Outcome.UNSATISFIABLE)
    if parsed is None:
        return Decision(Outcome.FULL)
    return Decision(Outcome.PARTIAL, tuple(parsed))


def _if_range_holds(value: str, etag: str, modified: datetime) -> bool:
    if value.startswith(('"', "W/")):
        return value == etag and not etag.startswith("W/")  # a weak tag never matches for ranges
    date = _parse_date(value)
    return date is not None and date == modified
