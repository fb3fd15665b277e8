"""Who is asking, from the User-Agent: a bot (never counted), a listening app, a playback library, a web
browser, or unknown. Names come from the OPAWG list vendored unchanged in ``data/opawg`` (its README).

As the list's README says: the first entry whose pattern matches, looking through bots, apps, libraries
and browsers in that order. As OP3 does, a library the list marks ``"category": "bot"`` (curl-like tools,
server-side HTTP clients) is a bot, and so is an unknown agent calling itself a bot, crawler or spider, or
a request without a user agent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

Kind = Literal["bot", "app", "library", "browser", "unknown"]

OTHER_APP = "Other"
WEB_BROWSER = "Web browser"
_FILES: tuple[tuple[str, Kind], ...] = (
    ("bots.json", "bot"),
    ("apps.json", "app"),
    ("libraries.json", "library"),
    ("browsers.json", "browser"),
)
_BOT_WORDS = re.compile("bot|crawler|spider", re.IGNORECASE)
_NO_AGENT = frozenset({"", "-"})  # "-" is how logs and proxies spell a missing header


@dataclass(frozen=True, slots=True)
class Agent:
    kind: Kind
    name: str | None = None  # the list's entry, when one matched


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Kind
    name: str
    pattern: re.Pattern[str]


def _searchable(pattern: str) -> str:
    """``pattern`` without a leading ``.*`` or ``.+``: ``search`` answers the same (newlines are removed
    before matching), but the wildcard makes each search quadratic in the length of the user agent."""
    if pattern[:2] not in (".*", ".+") or pattern[2:3] in ("?", "*", "+", "{") or "|" in pattern:
        return pattern
    return pattern[2:] if pattern[1] == "*" else "." + pattern[2:]


@cache
def entries() -> tuple[_Entry, ...]:
    """The list's entries in matching order, compiled once (the patterns have no flags: case matters)."""
    folder = resources.files("learning.media").joinpath("data", "opawg")
    found: list[_Entry] = []
    for file, kind in _FILES:
        for entry in json.loads(folder.joinpath(file).read_text(encoding="utf-8"))["entries"]:
            is_bot = kind == "library" and entry.get("category") == "bot"
            found.append(_Entry("bot" if is_bot else kind, entry["name"], re.compile(_searchable(entry["pattern"]))))
    return tuple(found)


@lru_cache(maxsize=4096)
def classify(user_agent: str) -> Agent:
    """What the OPAWG list makes of a user agent (see the module docstring)."""
    agent = user_agent.replace("\r", "").replace("\n", "")
    if agent.strip() in _NO_AGENT:
        return Agent("bot")
    for entry in entries():
        if entry.pattern.search(agent):
            return Agent(entry.kind, entry.name)
    return Agent("bot") if _BOT_WORDS.search(agent) else Agent("unknown")


def listening_app(user_agent: str) -> str | None:
    """The name the statistics give the listener's app, or None for a bot: the app or library the list
    names, "Web browser", or "Other" when unknown."""
    agent = classify(user_agent)
    if agent.kind == "bot":
        return None
    if agent.kind == "browser":
        return WEB_BROWSER
    return agent.name or OTHER_APP
