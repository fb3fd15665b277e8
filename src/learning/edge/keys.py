"""The cache key of a request: its path and only the query parameters its route reads, in canonical form.

The edge looks a stored answer up before any route runs, so the key must come from the path and the query string
alone. Each route that hands documents to the edge declares, in its ``opt``, the query parameters it reads and
how each is normalised (``opt={EDGE_QUERY: PAGE}``; ``{}`` for none, as feeds). ``Edge.learn_routes`` collects
these declarations once the app is built, and both the edge's lookup and the route's store ask ``RequestKeys.key``:
one function, so the two always agree.

Why a declaration per route, and not an app-wide allow-list: a parameter one route reads (``q`` of the search)
would make new entries on every other route (``/feeds/…xml?q=1``, ``?q=2``…). Why not read the parameters off the
framework's signature models: those are Litestar's private API, and a route may read ``request.query_params``
itself. ``tests/edge/test_keys.py`` checks every declaration against the query parameters the OpenAPI document
lists for that route, so a declaration cannot drift from what the route reads.

- Parameters the route does not read are left out: ``?v=1`` … ``?v=1000`` on a feed are one entry, one answer.
- Declared parameters are sorted by name; each keeps its values in the order sent (the framework reads the first of
  a repeated one, so ``a=1&a=2`` and ``a=2&a=1`` may differ); each value goes through its normaliser (integers in
  their shortest form, search words case- and space-folded).
- A path no declaration covers has no key (None): nothing is stored for it and the edge never looks it up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl, urlencode

EDGE_QUERY = "edge_query"  # the ``opt`` entry of a route whose answers the edge keeps

Normalise = Callable[[str], str]
Declaration = Mapping[str, Normalise]  # the query parameters a route reads, and how each value is normalised

_DIGITS = re.compile(r"[0-9]{1,18}")


def as_text(value: str) -> str:
    """A value kept as sent (an enum's name, say)."""
    return value


def as_int(value: str) -> str:
    """An integer parameter: ``007`` and ``7`` are one question (anything else is kept as sent: the route refuses
    it, and a refusal is never stored)."""
    return str(int(value)) if _DIGITS.fullmatch(value) else value


def as_words(value: str) -> str:
    """Search words are case- and space-insensitive: « Élus » and « élus  » are one question."""
    return " ".join(value.split()).casefold()


PAGE: Declaration = {"limit": as_int, "offset": as_int}  # ``lib.pagination.provide_page_request``


def _pattern(template: str) -> re.Pattern[str]:
    """A route's path template (``/api/v1/modules/{slug:str}``) as a regular expression over request paths."""
    parts: list[str] = []
    for segment in template.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(".+" if segment.endswith(":path}") else "[^/]+")
        else:
            parts.append(re.escape(segment))
    return re.compile("/".join(parts))


class RequestKeys:
    """The declared routes and their query parameters: ``key(path, query_string)``, for the edge and the routes."""

    def __init__(self) -> None:
        self._static: dict[str, Declaration] = {}
        self._templated: list[tuple[re.Pattern[str], Declaration]] = []

    def declare(self, template: str, parameters: Declaration) -> None:
        """The route at ``template`` reads exactly ``parameters`` from the query string."""
        if "{" in template:
            self._templated.append((_pattern(template), dict(parameters)))
        else:
            self._static[template] = dict(parameters)

    def declaration(self, path: str) -> Declaration | None:
        found = self._static.get(path)
        if found is not None:
            return found
        for pattern, parameters in self._templated:
            if pattern.fullmatch(path):
                return parameters
        return None

    def key(self, path: str, query_string: bytes) -> str | None:
        """The canonical key of a GET or HEAD of ``path``; None when no route that the edge serves is there."""
        parameters = self.declaration(path)
        if parameters is None:
            return None
        if not query_string or not parameters:
            return path
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        kept = [(name, parameters[name](value)) for name, value in pairs if name in parameters]
        if not kept:
            return path
        kept.sort(key=lambda pair: pair[0])  # stable: a repeated parameter keeps its values' order
        return path + "?" + urlencode(kept)  # encoded again: a value holding ``&`` cannot pass for two parameters
