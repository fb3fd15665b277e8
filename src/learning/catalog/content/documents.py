"""One content file read once: its YAML with the line of each key, its front matter, its digest."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from learning.catalog.content.sources import Publication

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PUBLICATIONS = {"draft", "scheduled", "published"}


@dataclass(frozen=True, slots=True)
class SourceError:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The YAML node tree (for the lines of keys) and the value built from that same tree: one parse."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


class ContentError(Exception):
    """The content files have problems; ``errors`` lists each with its file and line."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class Document:
    """One YAML mapping with the line of each top-level key, for error messages."""

    def __init__(self, path: Path, text: str, errors: list[SourceError], line_offset: int = 0) -> None:
        self.path = path
        self.errors = errors
        self.line_offset = line_offset
        self.values: dict[str, Any] = {}
        self.lines: dict[str, int] = {}
        self.first_line = line_offset + 1
        try:
            node, loaded = _parse(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            errors.append(SourceError(path, line, f"invalid YAML: {problem}"))
            self.valid = False
            return
        if not isinstance(loaded, dict) or not isinstance(node, yaml.MappingNode):
            errors.append(SourceError(path, self.first_line, "expected a mapping of keys to values"))
            self.valid = False
            return
        self.valid = True
        self.values = loaded
        for key_node, _ in node.value:
            self.lines[str(key_node.value)] = key_node.start_mark.line + 1 + line_offset

    def error(self, key: str | None, message: str) -> None:
        line = self.lines.get(key, self.first_line) if key else self.first_line
        self.errors.append(SourceError(self.path, line, message))

    def text(self, key: str, *, required: bool = True, default: str = "", max_length: int = 10_000) -> str:
        value = self.values.get(key)
        if value is None:
            if required:
                self.error(None, f"missing required key '{key}'")
            return default
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"'{key}' must be a non-empty text")
            return default
        if len(value) > max_length:
            self.error(key, f"'{key}' is longer than {max_length} characters")
        return value.strip()

    def integer(self, key: str, *, default: int | None = None, minimum: int = 0) -> int | None:
        value = self.values.get(key)
        if value is None:
            if default is None:
                self.error(None, f"missing required key '{key}'")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(key, f"'{key}' must be a whole number ≥ {minimum}")
            return default
        return value

    def choice(self, key: str, options: set[str], *, default: str | None = None) -> str:
        value = self.values.get(key, default)
        if value is None:
            self.error(None, f"missing required key '{key}'")
            return sorted(options)[0]
        if value not in options:
            self.error(key, f"'{key}' must be one of {', '.join(sorted(options))}, not {value!r}")
            return default or sorted(options)[0]
        return str(value)

    def moment(self, key: str, *, required: bool) -> datetime | None:
        value = self.values.get(key)
        if value is None:
            if required:
                self.error(None, f"missing required key '{key}'")
            return None
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self.error(key, f"'{key}' needs a UTC offset, e.g. 2019-01-24T11:00:00+01:00")
                return None
            return value
        if isinstance(value, date):
            self.error(key, f"'{key}' needs a time and a UTC offset, not only a date")
            return None
        self.error(key, f"'{key}' is not a date and time: {value!r}")
        return None

    def tags(self) -> list[str]:
        value = self.values.get("tags", [])
        if not isinstance(value, list) or not all(isinstance(tag, str) and SLUG.match(tag) for tag in value):
            self.error("tags", "'tags' must be a list of lowercase slugs (letters, digits, hyphens)")
            return []
        return list(dict.fromkeys(value))

    def publication(self) -> Publication:
        state = self.choice("status", PUBLICATIONS, default="published")
        publish_at = self.moment("publish_at", required=state == "scheduled")
        return Publication(state, publish_at)

    def unknown_keys(self, allowed: set[str]) -> None:
        for key in self.values:
            if key not in allowed:
                self.error(key, f"unknown key '{key}'")


def digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def read_text(path: Path, errors: list[SourceError]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(SourceError(path, None, f"not valid UTF-8 (byte {exc.start})"))
    except OSError as exc:
        errors.append(SourceError(path, None, f"cannot be read: {exc.strerror}"))
    return None


def split_front_matter(path: Path, text: str, errors: list[SourceError]) -> tuple[Document, str] | None:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        errors.append(SourceError(path, 1, "expected YAML front matter starting with '---'"))
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            document = Document(path, "".join(lines[1:index]), errors, line_offset=1)
            return document, "".join(lines[index + 1 :]).strip() + "\n"
    errors.append(SourceError(path, 1, "front matter is not closed by a '---' line"))
    return None
