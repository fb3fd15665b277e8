"""Walking the content folders: every file is read, validated and checked against the others."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from learning.catalog.content.documents import (
    PUBLICATIONS,
    SLUG,
    ContentError,
    Document,
    SourceError,
    digest,
    read_text,
    split_front_matter,
)
from learning.catalog.content.sources import (
    ContentBundle,
    FeedSource,
    LessonSource,
    MediaSource,
    ModuleSource,
    Publication,
    SeriesSource,
    SessionSource,
)

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
SESSION_STATUSES = {"upcoming", "live", "replay_available", "cancelled"}
SPEAKER_ROLES = {"host", "guest"}
FEED_KINDS = {"webinar_series", "module"}


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

    def media_ref(self, document: Document, key: str, *, kinds: tuple[str, ...]) -> str | None:
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
        text = read_text(path, self.errors)
        if text is None:
            return None
        document = Document(path, text, self.errors)
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
            content_hash=digest(text.encode()),
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
        text = read_text(path, self.errors)
        parsed = split_front_matter(path, text, self.errors) if text is not None else None
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
            content_hash=digest(text.encode()),
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
        text = read_text(path, self.errors) if path.is_file() else None
        if text is None:
            if not path.is_file():
                self.errors.append(SourceError(path, None, "missing series.yaml"))
            return None
        document = Document(path, text, self.errors)
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
            content_hash=digest(text.encode()),
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
        text = read_text(path, self.errors)
        parsed = split_front_matter(path, text, self.errors) if text is not None else None
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
            content_hash=digest(text.encode()),
            path=path,
        )

    def _speakers(self, document: Document) -> list[dict[str, str]]:
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
            text = read_text(path, self.errors)
            if text is None:
                continue
            document = Document(path, text, self.errors)
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
            feeds.append(FeedSource(path.stem, kind, source, data, digest(text.encode()), path))
        return feeds


def load_content(root: Path) -> ContentBundle:
    """Read and validate every content file under ``root``; raise ``ContentError`` listing all problems."""
    return _Loader(root).load()
