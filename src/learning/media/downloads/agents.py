"""Who is asking, from the User-Agent: a bot (never counted) or a listening app (named in the statistics)."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

OTHER_APP = "Other"


def _data_lines(name: str) -> list[str]:
    content = resources.files("learning.media").joinpath("data", name).read_text(encoding="utf-8")
    return [line.strip() for line in content.splitlines() if line.strip() and not line.startswith("#")]


@cache
def _bots() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in _data_lines("bots.txt")), re.IGNORECASE)


@cache
def _apps() -> tuple[tuple[str, re.Pattern[str]], ...]:
    entries = (line.partition(": ") for line in _data_lines("apps.txt"))
    return tuple((name.strip(), re.compile(pattern.strip(), re.IGNORECASE)) for name, _, pattern in entries)


@lru_cache(maxsize=4096)
def listening_app(user_agent: str) -> str | None:
    """The listening app behind a user agent ("Other" when unknown), or None for a bot."""
    if _bots().search(user_agent):
        return None
    return next((name for name, pattern in _apps() if pattern.search(user_agent)), OTHER_APP)
