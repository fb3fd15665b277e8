"""Reading and validating the content files (``modules/``, ``feeds/``, ``media/``).

Everything is validated before anything is written: every problem is collected with its file and line,
so one run of ``learning content sync`` shows them all.

Layout::

    modules/<module-slug>/module.yaml            the module
    modules/<module-slug>/NN-<lesson-slug>.md    its lessons (YAML front matter + Markdown), in NN order
    feeds/webinars/<series-slug>/series.yaml     a webinar series
    feeds/webinars/<series-slug>/<slug>.md       its sessions (front matter + Markdown)
    feeds/<feed-slug>.yaml                       one published podcast feed
    media/<file>                                 shipped media, referred to by file name (or name stem)
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
SESSION_FILE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
MEDIA_EXTENSIONS = {
    "mp4": "video/mp4",
    "m4v": "video/x-m4v",
    "mov": "video/quicktime",
    "m4a": "audio/x-m4a",
    "mp3": "audio/mpeg",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json+chapters",
}
LESSON_KINDS = {"text", "video", "audio"}
PUBLICATIONS = {"draft", "scheduled", "published"}
SESSION_STATUSES = {"upcoming", "live", "replay_available", "cancelled"}
SPEAKER_ROLES = {"host", "guest"}
FEED_KINDS = {"webinar_series", "module"}


@dataclass(frozen=True, slots=True)
class SourceError:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class ContentError(Exception):
    """The content files have problems; ``errors`` lists each with its file and line."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass(slots=True)
class MediaSource:
    ref: str  # the file name, e.g. "webinar-2019-01.mp4"
    path: Path
    extension: str
    mime_type: str


@dataclass(slots=True)
class Publication:
    state: str
    publish_at: datetime | None


@dataclass(slots=True)
class LessonSource:
    slug: str
    position: int
    title: str
    summary: str
    kind: str
    body_md: str
    media_ref: str | None
    duration_seconds: int
    completion_rule: str
    completion_threshold: float
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path


@dataclass(slots=True)
class ModuleSource:
    slug: str
    title: str
    summary: str
    description_md: str
    position: int
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path
    lessons: list[LessonSource] = field(default_factory=list)


@dataclass(slots=True)
class SessionSource:
    slug: str
    title: str
    summary: str
    body_md: str
    scheduled_at: datetime
    duration_minutes: int
    status: str
    speakers: list[dict[str, str]]
    replay_ref: str | None
    transcript_ref: str | None
    chapters_ref: str | None
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path


@dataclass(slots=True)
class SeriesSource:
    slug: str
    title: str
    summary: str
    description_md: str
    organiser: str
    timezone: str
    year: int | None
    tags: list[str]
    publication: Publication
    content_hash: str
    path: Path
    sessions: list[SessionSource] = field(default_factory=list)


@dataclass(slots=True)
class FeedSource:
    slug: str
    kind: str
    source: str
    data: dict[str, Any]
    content_hash: str
    path: Path


@dataclass(slots=True)
class ContentBundle:
    modules: list[ModuleSource]
    series: list[SeriesSource]
    feeds: list[FeedSource]
    media: dict[str, MediaSource]

    def referenced_media(self) -> list[MediaSource]:
        """The media files that some content refers to, each once, in a stable order."""
        refs: set[str] = set()
        for module in self.modules:
            refs.update(lesson.media_ref for lesson in module.lessons if lesson.media_ref)
        for series in self.series:
            for session in series.sessions:
                refs.update(r for r in (session.replay_ref, session.transcript_ref, session.chapters_ref) if r)
        for feed in self.feeds:
            if isinstance(feed.data.get("artwork"), str):
                refs.add(feed.data["artwork"])
        return [self.media[ref] for ref in sorted(refs) if ref in self.media]


class _Document:
    """One YAML mapping with the line of each top-level key, for error messages."""

    def __init__(self, path: Path, text: str, errors: list[SourceError], line_offset: int = 0) -> None:
        self.path = path
        self.errors = errors
        self.line_offset = line_offset
        self.values: dict[str, Any] = {}
        self.lines: dict[str, int] = {}
        self.first_line = line_offset + 1
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            loaded = yaml.safe_load(text)
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


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _read(path: Path, errors: list[SourceError]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        errors.append(SourceError(path, None, f"not valid UTF-8 (byte {exc.start})"))
    except OSError as exc:
        errors.append(SourceError(path, None, f"cannot be read: {exc.strerror}"))
    return None


def _front_matter(path: Path, text: str, errors: list[SourceError]) -> tuple[_Document, str] | None:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        errors.append(SourceError(path, 1, "expected YAML front matter starting with '---'"))
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            document = _Document(path, "".join(lines[1:index]), errors, line_offset=1)
            return document, "".join(lines[index + 1 :]).strip() + "\n"
    errors.append(SourceError(path, 1, "front matter is not closed by a '---' line"))
    return None


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[SourceError] = []
        self.media = self._scan_media()

    def _scan_media(self) -> dict[str, MediaSource]:
        media: dict[str, MediaSource] = {}
        folder = self.root / "media"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                extension = path.suffix.lower().lstrip(".")
                if path.is_file() and extension in MEDIA_EXTENSIONS:
                    media[path.name] = MediaSource(path.name, path, extension, MEDIA_EXTENSIONS[extension])
        return media

    def media_ref(self, document: _Document, key: str, *, kinds: tuple[str, ...]) -> str | None:
        """Resolve a reference (a file name, or a name without extension) to a file of ``media/``."""
        value = document.values.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            document.error(key, f"'{key}' must be a media file name")
            return None
        candidates = [value] if value in self.media else [f"{value}.{ext}" for ext in MEDIA_EXTENSIONS]
        for candidate in candidates:
            found = self.media.get(candidate)
            if found is not None and found.mime_type.split("/")[0] in kinds:
                return found.ref
        document.error(key, f"unknown media reference '{value}' (no such {'/'.join(kinds)} file in media/)")
        return None

    def load(self) -> ContentBundle:
        modules = self._modules()
        series = self._series()
        feeds = self._feeds({m.slug for m in modules}, {s.slug for s in series})
        if self.errors:
            raise ContentError(self.errors)
        return ContentBundle(modules=modules, series=series, feeds=feeds, media=self.media)

    # --- modules --------------------------------------------------------------------------------
    def _modules(self) -> list[ModuleSource]:
        folder = self.root / "modules"
        modules: list[ModuleSource] = []
        if not folder.is_dir():
            return modules
        for directory in sorted(p for p in folder.iterdir() if p.is_dir()):
            module = self._module(directory)
            if module is not None:
                modules.append(module)
        positions: dict[int, str] = {}
        for module in modules:
            if module.position in positions:
                self.errors.append(
                    SourceError(
                        module.path,
                        None,
                        f"position {module.position} is also used by '{positions[module.position]}'",
                    )
                )
            positions[module.position] = module.slug
        return modules

    def _module(self, directory: Path) -> ModuleSource | None:
        path = directory / "module.yaml"
        if not SLUG.match(directory.name):
            self.errors.append(SourceError(directory, None, "folder name is not a valid slug"))
            return None
        if not path.is_file():
            self.errors.append(SourceError(path, None, "missing module.yaml"))
            return None
        text = _read(path, self.errors)
        if text is None:
            return None
        document = _Document(path, text, self.errors)
        if not document.valid:
            return None
        document.unknown_keys({"title", "position", "summary", "description", "status", "publish_at", "tags"})
        module = ModuleSource(
            slug=directory.name,
            title=document.text("title", max_length=300),
            summary=document.text("summary", required=False, max_length=2000),
            description_md=document.text("description", required=False),
            position=document.integer("position", default=None, minimum=1) or 0,
            tags=document.tags(),
            publication=document.publication(),
            content_hash=_digest(text.encode()),
            path=path,
        )
        module.lessons = self._lessons(directory)
        return module

    def _lessons(self, directory: Path) -> list[LessonSource]:
        lessons: list[LessonSource] = []
        slugs: dict[str, Path] = {}
        for path in sorted(directory.glob("*.md")):
            match = LESSON_FILE.match(path.name)
            if match is None:
                self.errors.append(SourceError(path, None, "lesson files are named NN-<slug>.md"))
                continue
            position, slug = int(match.group(1)), match.group(2)
            if slug in slugs:
                self.errors.append(SourceError(path, None, f"duplicate lesson slug '{slug}' (also {slugs[slug].name})"))
                continue
            slugs[slug] = path
            lesson = self._lesson(path, slug, position)
            if lesson is not None:
                lessons.append(lesson)
        numbers = [lesson.position for lesson in lessons]
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            self.errors.append(
                SourceError(directory, None, f"lessons must be numbered 01, 02, … without gaps: {numbers}")
            )
        return lessons

    def _lesson(self, path: Path, slug: str, position: int) -> LessonSource | None:
        text = _read(path, self.errors)
        parsed = _front_matter(path, text, self.errors) if text is not None else None
        if parsed is None or text is None:
            return None
        document, body = parsed
        if not document.valid:
            return None
        document.unknown_keys(
            {
                "title",
                "kind",
                "summary",
                "duration",
                "completion",
                "completion_threshold",
                "media",
                "tags",
                "status",
                "publish_at",
            }
        )
        kind = document.choice("kind", LESSON_KINDS)
        default_rule = "mark_done" if kind == "text" else "coverage"
        rule = document.choice("completion", {"mark_done", "coverage"}, default=default_rule)
        if kind == "text" and rule == "coverage":
            document.error("completion", "a text lesson is completed by 'mark_done'")
        threshold = document.values.get("completion_threshold", 0.9)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 < threshold <= 1:
            document.error("completion_threshold", "'completion_threshold' must be a number in (0, 1]")
            threshold = 0.9
        media_ref: str | None = None
        if kind in {"video", "audio"}:
            if "media" not in document.values:
                document.error(None, f"a {kind} lesson needs a 'media' reference")
            media_ref = self.media_ref(document, "media", kinds=(kind,))
        elif "media" in document.values:
            document.error("media", "a text lesson has no media")
        return LessonSource(
            slug=slug,
            position=position,
            title=document.text("title", max_length=300),
            summary=document.text("summary", required=False, max_length=2000),
            kind=kind,
            body_md=body,
            media_ref=media_ref,
            duration_seconds=document.integer("duration", default=0) or 0,
            completion_rule=rule,
            completion_threshold=float(threshold),
            tags=document.tags(),
            publication=document.publication(),
            content_hash=_digest(text.encode()),
            path=path,
        )

    # --- webinar series -----------------------------------------------------------------------
    def _series(self) -> list[SeriesSource]:
        folder = self.root / "feeds" / "webinars"
        result: list[SeriesSource] = []
        if not folder.is_dir():
            return result
        for directory in sorted(p for p in folder.iterdir() if p.is_dir()):
            series = self._one_series(directory)
            if series is not None:
                result.append(series)
        return result

    def _one_series(self, directory: Path) -> SeriesSource | None:
        path = directory / "series.yaml"
        if not SLUG.match(directory.name):
            self.errors.append(SourceError(directory, None, "folder name is not a valid slug"))
            return None
        text = _read(path, self.errors) if path.is_file() else None
        if text is None:
            if not path.is_file():
                self.errors.append(SourceError(path, None, "missing series.yaml"))
            return None
        document = _Document(path, text, self.errors)
        if not document.valid:
            return None
        document.unknown_keys(
            {
                "title",
                "summary",
                "description",
                "organiser",
                "timezone",
                "year",
                "tags",
                "status",
                "publish_at",
            }
        )
        series = SeriesSource(
            slug=directory.name,
            title=document.text("title", max_length=300),
            summary=document.text("summary", required=False, max_length=2000),
            description_md=document.text("description", required=False),
            organiser=document.text("organiser", required=False, max_length=200),
            timezone=document.text("timezone", required=False, default="Europe/Paris", max_length=64),
            year=document.integer("year", default=0, minimum=1900) or None,
            tags=document.tags(),
            publication=document.publication(),
            content_hash=_digest(text.encode()),
            path=path,
        )
        slugs: set[str] = set()
        for session_path in sorted(directory.glob("*.md")):
            match = SESSION_FILE.match(session_path.name)
            if match is None:
                self.errors.append(SourceError(session_path, None, "session files are named <slug>.md"))
                continue
            if match.group(1) in slugs:
                self.errors.append(SourceError(session_path, None, f"duplicate session slug '{match.group(1)}'"))
                continue
            slugs.add(match.group(1))
            session = self._session(session_path, match.group(1))
            if session is not None:
                series.sessions.append(session)
        series.sessions.sort(key=lambda s: s.scheduled_at)
        return series

    def _session(self, path: Path, slug: str) -> SessionSource | None:
        text = _read(path, self.errors)
        parsed = _front_matter(path, text, self.errors) if text is not None else None
        if parsed is None or text is None:
            return None
        document, body = parsed
        if not document.valid:
            return None
        document.unknown_keys(
            {
                "title",
                "scheduled_at",
                "duration_minutes",
                "status",
                "speakers",
                "replay",
                "transcript",
                "chapters",
                "summary",
                "tags",
                "publication",
                "publish_at",
            }
        )
        scheduled_at = document.moment("scheduled_at", required=True)
        status = document.choice("status", SESSION_STATUSES)
        replay = self.media_ref(document, "replay", kinds=("video", "audio"))
        if status == "replay_available" and "replay" not in document.values:
            document.error("status", "status 'replay_available' needs a 'replay' reference")
        publication_state = document.choice("publication", PUBLICATIONS, default="published")
        publish_at = document.moment("publish_at", required=publication_state == "scheduled")
        return SessionSource(
            slug=slug,
            title=document.text("title", max_length=300),
            summary=document.text("summary", required=False, max_length=2000),
            body_md=body,
            scheduled_at=scheduled_at or datetime.fromtimestamp(0).astimezone(),
            duration_minutes=document.integer("duration_minutes", default=60, minimum=1) or 60,
            status=status,
            speakers=self._speakers(document),
            replay_ref=replay,
            transcript_ref=self.media_ref(document, "transcript", kinds=("text", "application")),
            chapters_ref=self.media_ref(document, "chapters", kinds=("application",)),
            tags=document.tags(),
            publication=Publication(publication_state, publish_at),
            content_hash=_digest(text.encode()),
            path=path,
        )

    def _speakers(self, document: _Document) -> list[dict[str, str]]:
        value = document.values.get("speakers", [])
        speakers: list[dict[str, str]] = []
        if not isinstance(value, list):
            document.error("speakers", "'speakers' must be a list")
            return speakers
        for entry in value:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("name"), str)
                or not isinstance(entry.get("organisation", ""), str)
                or entry.get("role", "guest") not in SPEAKER_ROLES
            ):
                document.error("speakers", "each speaker needs a 'name', an 'organisation' and a role host|guest")
                continue
            speakers.append(
                {
                    "name": entry["name"],
                    "organisation": entry.get("organisation", ""),
                    "role": entry.get("role", "guest"),
                }
            )
        return speakers

    # --- feeds ----------------------------------------------------------------------------------
    def _feeds(self, modules: set[str], series: set[str]) -> list[FeedSource]:
        feeds: list[FeedSource] = []
        folder = self.root / "feeds"
        if not folder.is_dir():
            return feeds
        for path in sorted(folder.glob("*.yaml")):
            text = _read(path, self.errors)
            if text is None:
                continue
            document = _Document(path, text, self.errors)
            if not document.valid:
                continue
            if not SLUG.match(path.stem):
                document.error(None, "feed file name is not a valid slug")
            kind = document.choice("kind", FEED_KINDS)
            source = document.text("source")
            known = modules if kind == "module" else series
            if source and source not in known:
                document.error("source", f"unknown {kind.replace('_', ' ')} '{source}'")
            document.text("title", max_length=255)
            document.text("description", max_length=4000)
            document.choice("language", {"fr"}, default="fr")
            document.choice("type", {"serial", "episodic"}, default="episodic")
            artwork = self.media_ref(document, "artwork", kinds=("image",))
            data = dict(document.values)
            if artwork:
                data["artwork"] = artwork
            feeds.append(FeedSource(path.stem, kind, source, data, _digest(text.encode()), path))
        return feeds


def load_content(root: Path) -> ContentBundle:
    """Read and validate every content file under ``root``; raise ``ContentError`` listing all problems."""
    return _Loader(root).load()
