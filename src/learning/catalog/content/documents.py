"""One content file read once: its YAML with the line of each key, its front matter, its digest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


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
    """One YAML mapping with the line of each top-level key, for error messages.

    ``valid`` is False when the text is not YAML or not a mapping (that problem is already recorded).
    """

    def __init__(self, path: Path, text: str, errors: list[SourceError], line_offset: int = 0) -> None:
        self.path = path
        self.errors = errors
        self.line_offset = line_offset
        self.values: dict[Any, Any] = {}  # keys are text, unless YAML read `1:` as a number
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
        """Record ``message`` at the line of ``key``, or at the start of the mapping."""
        line = self.lines.get(key, self.first_line) if key else self.first_line
        self.errors.append(SourceError(self.path, line, message))


def digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def read_text(path: Path, errors: list[SourceError]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(SourceError(path, None, f"not valid UTF-8 (byte {exc.start})"))
    except OSError as exc:
        errors.append(SourceError(path, None, f"cannot be read: {exc.strerror}"))
    return None


def split_front_matter(path: Path, text: str, errors: list[SourceError]) -> tuple[Document, str] | None:
    """The front matter between the two '---' lines, and the Markdown after it."""
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
