"""Column types of our own PostgreSQL types."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, UserDefinedType


class _SecondsMultiRange(UserDefinedType[Any]):
    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "seconds_multirange"


class Segments(TypeDecorator[list[list[float]]]):
    """Watched segments, ``[[from, to], …]`` in Python, a ``seconds_multirange`` in PostgreSQL.

    ``seconds_multirange`` (migration e7b2c9d4a1f3) is a multirange of half-open float8 ranges of seconds:
    PostgreSQL keeps it as a sorted union, overlapping and touching segments joined, exactly what
    ``progress.segments.merge`` computes in Python.
    """

    impl = _SecondsMultiRange
    cache_ok = True

    def process_bind_param(self, value: list[list[float]] | None, dialect: Dialect) -> list[asyncpg.Range] | None:
        if value is None:
            return None
        return [asyncpg.Range(low, high, lower_inc=True, upper_inc=False) for low, high in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> list[list[float]] | None:
        return None if value is None else segments_of(value)


def segments_of(ranges: list[asyncpg.Range]) -> list[list[float]]:
    """A ``seconds_multirange`` as asyncpg reads it, as ``[[from, to], …]``."""
    return [[float(segment.lower), float(segment.upper)] for segment in ranges if not segment.isempty]


def recognise_our_types(dialect: Dialect) -> None:
    """Let ``dialect`` reflect our types (Alembic's comparison of the models with the database needs it)."""
    names = getattr(dialect, "ischema_names", None)
    if names is not None and "seconds_multirange" not in names:
        dialect.ischema_names = {**names, "seconds_multirange": _SecondsMultiRange}  # type: ignore[attr-defined]
