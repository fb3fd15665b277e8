"""Walking the content folders: every file is read, validated and checked against the others."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import msgspec

from learning.catalog.content.documents import (
    ContentError,
    Document,
    SourceError,
    digest,
    read_text,
    split_front_matter,
)
from learning.catalog.content.front_matter import (
    SLUG_PATTERN,
    FeedFile,
    LessonFrontMatter,
    ModuleFile,
    SeriesFile,
    SessionFrontMatter,
)
from learning.catalog.content.quizzes import QuizSource, load_quiz
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
from learning.catalog.content.validation import Model, convert
from learning.media import formats

SLUG = re.compile(SLUG_PATTERN)
QUIZ_FILE = "quiz.yaml"
LESSON_FILE = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
SESSION_FILE = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
# The files ``media/`` may hold, in the order a reference without extension tries them; their types come
# from the one MIME table.
MEDIA_EXTENSIONS = {
    extension: formats.BY_EXTENSION[extension].mime_type
    for extension in ("mp4", "m4v", "mov", "m4a", "mp3", "jpg", "jpeg", "png", "vtt", "srt", "json")
}


class _Loader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[SourceError] = []
        self.media = self._scan_media()
        # The slugs a feed may name: every module or series whose file is a YAML mapping, even one
        # with problems of its own (those are reported once, on that file).
        self.module_slugs: set[str] = set()
        self.series_slugs: set[str] = set()

    def _scan_media(self) -> dict[str, MediaSource]:
        media: dict[str, MediaSource] = {}
        folder = self.root / "media"
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                extension = path.suffix.lower().lstrip(".")
                if path.is_file() and extension in MEDIA_EXTENSIONS:
                    media[path.name] = MediaSource(path.name, path, extension, MEDIA_EXTENSIONS[extension])
        return media

    def media_ref(self, document: Document, key: str, value: str | None, *, kinds: tuple[str, ...]) -> str | None:
        """Resolve a reference (a file name, or a name without extension) to a file of ``media/``."""
        if value is None:
            return None
        candidates = [value] if value in self.media else [f"{value}.{ext}" for ext in MEDIA_EXTENSIONS]
        for candidate in candidates:
            found = self.media.get(candidate)
            if found is not None and found.mime_type.split("/")[0] in kinds:
                return found.ref
        document.error(key, f"unknown media reference '{value}' (no such {'/'.join(kinds)} file in media/)")
        return None

    def _yaml_file(self, path: Path) -> tuple[Document, str] | None:
        """The YAML mapping of ``path`` and its text, or None once the problem is recorded."""
        text = read_text(path, self.errors)
        if text is None:
            return None
        document = Document(path, text, self.errors)
        return (document, text) if document.valid else None

    def _folder_file(self, directory: Path, name: str) -> tuple[Document, str] | None:
        """The ``module.yaml`` or ``series.yaml`` of a folder named by its slug."""
        if not SLUG.match(directory.name):
            self.errors.append(SourceError(directory, None, "folder name is not a valid slug"))
            return None
        if not (directory / name).is_file():
            self.errors.append(SourceError(directory / name, None, f"missing {name}"))
            return None
        return self._yaml_file(directory / name)

    def _front_matter_file(self, path: Path, model: type[Model]) -> tuple[Model, Document, str, str] | None:
        """A lesson's or session's front matter as ``model``, its document, Markdown body and content hash."""
        text = read_text(path, self.errors)
        parsed = split_front_matter(path, text, self.errors) if text is not None else None
        if parsed is None or text is None:
            return None
        document, body = parsed
        front = convert(document, model) if document.valid else None
        return (front, document, body, digest(text.encode())) if front is not None else None

    def load(self) -> ContentBundle:
        modules = self._modules()
        series = self._series()
        feeds = self._feeds()
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
        read = self._folder_file(directory, "module.yaml")
        if read is None:
            return None
        document, text = read
        self.module_slugs.add(directory.name)
        front = convert(document, ModuleFile)
        lessons = self._lessons(directory)  # checked even when module.yaml has problems
        quiz = self._quiz(directory, {lesson.slug for lesson in lessons})
        if front is None:
            return None
        if front.quiz_required and quiz is None and not (directory / QUIZ_FILE).is_file():
            document.error("quiz_required", f"'quiz_required' needs a {QUIZ_FILE} in the module's folder")
        return ModuleSource(
            slug=directory.name,
            title=front.title.strip(),
            summary=front.summary.strip(),
            description_md=front.description.strip(),
            position=front.position,
            tags=_unique(front.tags),
            publication=_publication(document, front.status, front.publish_at),
            content_hash=digest(text.encode()),
            path=document.path,
            lessons=lessons,
            published=front.published,
            notice=front.notice.strip(),
            objectives=[objective.strip() for objective in front.objectives],
            audience=front.audience.strip(),
            prerequisites=front.prerequisites.strip(),
            quiz=quiz,
            quiz_required=front.quiz_required,
        )

    def _quiz(self, directory: Path, lessons: set[str]) -> QuizSource | None:
        """The module's ``quiz.yaml``, if it has one (checked against its lessons)."""
        path = directory / QUIZ_FILE
        if not path.is_file():
            return None
        text = read_text(path, self.errors)
        return load_quiz(path, text, lessons, self.errors) if text is not None else None

    def _lessons(self, directory: Path) -> list[LessonSource]:
        lessons: list[LessonSource] = []
        slugs: dict[str, Path] = {}
        numbers: list[int] = []
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
            numbers.append(position)
            lesson = self._lesson(path, slug, position)
            if lesson is not None:
                lessons.append(lesson)
        if numbers and numbers != list(range(1, len(numbers) + 1)):
            self.errors.append(
                SourceError(directory, None, f"lessons must be numbered 01, 02, … without gaps: {numbers}")
            )
        return lessons

    def _lesson(self, path: Path, slug: str, position: int) -> LessonSource | None:
        read = self._front_matter_file(path, LessonFrontMatter)
        if read is None:
            return None
        front, document, body, content_hash = read
        rule = front.completion or ("mark_done" if front.kind == "text" else "coverage")
        if front.kind == "text" and rule == "coverage":
            document.error("completion", "a text lesson is completed by 'mark_done'")
        media_ref: str | None = None
        transcript_ref = chapters_ref = None
        if front.kind == "text":
            for key in ("media", "transcript", "chapters"):
                if getattr(front, key) is not None:
                    document.error(key, f"a text lesson has no {key}")
        elif front.media is None:
            document.error(None, f"a {front.kind} lesson needs a 'media' reference")
        else:
            media_ref = self.media_ref(document, "media", front.media, kinds=(front.kind,))
            transcript_ref = self.media_ref(document, "transcript", front.transcript, kinds=("text", "application"))
            chapters_ref = self.media_ref(document, "chapters", front.chapters, kinds=("application",))
        return LessonSource(
            slug=slug,
            position=position,
            title=front.title.strip(),
            summary=front.summary.strip(),
            kind=front.kind,
            body_md=body,
            media_ref=media_ref,
            transcript_ref=transcript_ref,
            chapters_ref=chapters_ref,
            duration_seconds=front.duration,
            duration_line=document.lines.get("duration"),
            completion_rule=rule,
            completion_threshold=front.completion_threshold,
            tags=_unique(front.tags),
            publication=_publication(document, front.status, front.publish_at),
            content_hash=content_hash,
            path=path,
            published=front.published,
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
        read = self._folder_file(directory, "series.yaml")
        if read is None:
            return None
        document, text = read
        self.series_slugs.add(directory.name)
        front = convert(document, SeriesFile)
        sessions = self._sessions(directory)  # checked even when series.yaml has problems
        if front is None:
            return None
        return SeriesSource(
            slug=directory.name,
            title=front.title.strip(),
            summary=front.summary.strip(),
            description_md=front.description.strip(),
            organiser=front.organiser.strip(),
            timezone=front.timezone.strip(),
            year=front.year,
            tags=_unique(front.tags),
            publication=_publication(document, front.status, front.publish_at),
            content_hash=digest(text.encode()),
            path=document.path,
            sessions=sessions,
            notice=front.notice.strip(),
        )

    def _sessions(self, directory: Path) -> list[SessionSource]:
        sessions: list[SessionSource] = []
        slugs: set[str] = set()
        for path in sorted(directory.glob("*.md")):
            match = SESSION_FILE.match(path.name)
            if match is None:
                self.errors.append(SourceError(path, None, "session files are named <slug>.md"))
                continue
            if match.group(1) in slugs:
                self.errors.append(SourceError(path, None, f"duplicate session slug '{match.group(1)}'"))
                continue
            slugs.add(match.group(1))
            session = self._session(path, match.group(1))
            if session is not None:
                sessions.append(session)
        return sorted(sessions, key=lambda s: s.scheduled_at)

    def _session(self, path: Path, slug: str) -> SessionSource | None:
        read = self._front_matter_file(path, SessionFrontMatter)
        if read is None:
            return None
        front, document, body, content_hash = read
        if front.status == "replay_available" and front.replay is None:
            document.error("status", "status 'replay_available' needs a 'replay' reference")
        return SessionSource(
            slug=slug,
            title=front.title.strip(),
            summary=front.summary.strip(),
            body_md=body,
            scheduled_at=front.scheduled_at,
            duration_minutes=front.duration_minutes,
            status=front.status,
            speakers=[msgspec.structs.asdict(speaker) for speaker in front.speakers],
            replay_ref=self.media_ref(document, "replay", front.replay, kinds=("video", "audio")),
            transcript_ref=self.media_ref(document, "transcript", front.transcript, kinds=("text", "application")),
            chapters_ref=self.media_ref(document, "chapters", front.chapters, kinds=("application",)),
            tags=_unique(front.tags),
            publication=_publication(document, front.publication, front.publish_at),
            content_hash=content_hash,
            path=path,
        )

    # --- feeds ----------------------------------------------------------------------------------
    def _feeds(self) -> list[FeedSource]:
        feeds: list[FeedSource] = []
        folder = self.root / "feeds"
        if not folder.is_dir():
            return feeds
        for path in sorted(folder.glob("*.yaml")):
            read = self._yaml_file(path)
            if read is None:
                continue
            document, text = read
            if not SLUG.match(path.stem):
                document.error(None, "feed file name is not a valid slug")
            front = convert(document, FeedFile)
            if front is None:
                continue
            source = front.source.strip()
            if source not in (self.module_slugs if front.kind == "module" else self.series_slugs):
                document.error("source", f"unknown {front.kind.replace('_', ' ')} '{source}'")
            artwork = self.media_ref(document, "artwork", front.artwork, kinds=("image",))
            live = self.media_ref(document, "live_enclosure", front.live_enclosure, kinds=("audio", "video"))
            if live and front.kind != "webinar_series":
                document.error("live_enclosure", "only a webinar series feed has live items")
            data = dict(document.values)  # the channel's keys as written; sync reads the ones it knows
            if artwork:
                data["artwork"] = artwork
            if live:
                data["live_enclosure"] = live
            feeds.append(FeedSource(path.stem, front.kind, source, data, digest(text.encode()), path))
        return feeds


def _publication(document: Document, state: str, publish_at: datetime | None) -> Publication:
    if state == "scheduled" and publish_at is None:
        document.error(None, "missing required key 'publish_at'")
    return Publication(state, publish_at)


def _unique(tags: list[str]) -> list[str]:
    return list(dict.fromkeys(tags))


def load_content(root: Path) -> ContentBundle:
    """Read and validate every content file under ``root``; raise ``ContentError`` listing all problems."""
    return _Loader(root).load()
