"""SQL written by hand for asyncpg, with named parameters for the reader."""

from __future__ import annotations

import re

_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def numbered(sql: str) -> tuple[str, list[str]]:
    """``sql`` with ``:name`` parameters turned into asyncpg's ``$1, $2, …``, and the names in that order.

    A name used several times gets one number; ``::type`` casts are left alone.
    """
    names: list[str] = []

    def number(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), names
