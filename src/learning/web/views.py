"""What the pages show, shaped from the domains' answers: feed links, a learner's marks on lessons."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import segno
from litestar import HttpMethod, route
from litestar.handlers import HTTPRouteHandler
from markupsafe import Markup, escape

from learning.catalog.services import FeedSource
from learning.db import models as m
from learning.progress.events import ModuleProgress
from learning.web.formatting import podcast_link


def page_route(path: str, **options: Any) -> HTTPRouteHandler:
    """A page read: GET, and HEAD with the same headers and no body (link checkers and feed readers ask)."""
    return route(path, http_method=[HttpMethod.GET, HttpMethod.HEAD], **options)


@dataclass(frozen=True, slots=True)
class FeedLink:
    """« S'abonner »: the feed's address, for podcast apps and for copying."""

    url: str
    podcast_url: str
    atom_url: str
    page: str  # the « S'abonner » page that explains it, app by app
    cover: str | None  # the feed's artwork, a path of this site: the module's or series' cover on the pages


# The « S'abonner » pages' folder for each kind of feed (the pages' own French words).
SUBSCRIBE_FOLDERS = {m.FeedKind.MODULE: "modules", m.FeedKind.WEBINAR_SERIES: "webinaires"}


def feed_url(base_url: str, kind: m.FeedKind, slug: str, extension: str = "xml") -> str:
    """The public address of a module's or series' feed (RSS: ``xml``; Atom: ``atom``)."""
    folder = "webinars" if kind is m.FeedKind.WEBINAR_SERIES else "modules"
    return f"{base_url}/feeds/{folder}/{slug}.{extension}"


def feed_link(base_url: str, source: FeedSource) -> FeedLink:
    kind, slug = source.kind, source.slug
    url = feed_url(base_url, kind, slug)
    return FeedLink(
        url=url, podcast_url=podcast_link(url), atom_url=feed_url(base_url, kind, slug, "atom"),
        page=f"/abonnement/{SUBSCRIBE_FOLDERS[kind]}/{slug}",
        cover=local_url(source.artwork.url, base_url) if source.artwork else None,
    )  # fmt: skip


def qr_svg(text: str, label: str) -> Markup:
    """A QR code of ``text`` as inline SVG (segno; medium error correction, a phone's camera reads it from a
    screen), announced to screen readers by ``label``."""
    code = segno.make_qr(text, error="m")
    svg = code.svg_inline(scale=4, border=4, svgclass="qr-code", lineclass=None, omitsize=True)
    # segno's own markup (numbers and fixed attributes) and the escaped label: nothing unescaped from outside.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S704


def local_url(url: str | None, base_url: str) -> str | None:
    """A media URL as a path of this site, so the page plays from where it was opened (and its CSP allows it)."""
    if url is None:
        return None
    return url[len(base_url) :] if url.startswith(base_url + "/") else url


STATUS_LABELS = {"completed": "Terminée", "in_progress": "En cours", "not_started": "Pas commencée"}


@dataclass(frozen=True, slots=True)
class LessonMark:
    status: str  # completed | in_progress | not_started
    percent: float
    resume_at: float

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class ModuleMarks:
    """A signed-in learner's progress through a module, lesson by lesson."""

    enrolled: bool
    percent_complete: float
    lessons: dict[uuid.UUID, LessonMark]
    resume_slug: str | None
    started: bool
    module_done: bool = False  # ModuleProgress.completed, the one rule: an attestation may be asked for

    @property
    def completed(self) -> int:
        return sum(1 for mark in self.lessons.values() if mark.status == "completed")

    @property
    def in_progress(self) -> int:
        return sum(1 for mark in self.lessons.values() if mark.status == "in_progress")

    @property
    def advance(self) -> float:
        """How far through the module, lesson parts included (the share of completed lessons says 0 % after
        half a video): the mean of the lessons' percentages."""
        marks = list(self.lessons.values())
        return round(sum(mark.percent for mark in marks) / len(marks), 1) if marks else 0.0


def module_marks(found: ModuleProgress) -> ModuleMarks:
    lessons = {}
    for lesson, row in found.lessons:
        duration = lesson.duration_seconds or 0
        watched = row.watched_seconds if row is not None else 0.0
        percent = round(min(100.0, 100 * watched / duration), 1) if duration else 0.0
        if row is not None and row.completed:
            status, percent = "completed", 100.0
        elif row is not None:
            status = "in_progress"
        else:
            status = "not_started"
        resume_at = (row.position_seconds or 0.0) if row is not None else 0.0
        lessons[lesson.id] = LessonMark(status=status, percent=percent, resume_at=resume_at)
    enrollment = found.enrollment
    # « Reprendre »: the lesson left half-way, else the first one not completed.
    started = [lesson for lesson, _ in found.lessons if lessons[lesson.id].status == "in_progress"]
    following = started[0] if started else found.next_lesson
    return ModuleMarks(
        enrolled=enrollment is not None and enrollment.status is m.EnrollmentStatus.ACTIVE,
        percent_complete=found.percent_complete,
        lessons=lessons,
        resume_slug=following.slug if following is not None else None,
        started=any(row is not None for _, row in found.lessons),
        module_done=found.completed,
    )


@dataclass(frozen=True, slots=True)
class ResumeTarget:
    """« Reprendre » on the home page: the lesson the learner was last on, or the next one if they finished it."""

    module_title: str
    module_position: int
    lesson_title: str
    path: str
    at: float  # seconds into the lesson's media (0: from the start)


def resume_target(overview: list[ModuleProgress]) -> ResumeTarget | None:
    """The last lesson touched across the learner's modules: resumed where it stopped, or its module's next
    lesson when it was finished; None before any activity or when everything touched is finished."""
    touched = [
        (row.updated_at, found, lesson, row) for found in overview for lesson, row in found.lessons if row is not None
    ]
    if not touched:
        return None
    _, found, lesson, row = max(touched, key=lambda item: item[0])
    if row.completed:
        following = found.next_lesson
        if following is None:
            return None
        lesson, at = following, 0.0
    else:
        at = row.position_seconds or 0.0
    module = found.module
    return ResumeTarget(
        module_title=module.title, module_position=module.position, lesson_title=lesson.title,
        path=f"/modules/{module.slug}/lecons/{lesson.slug}", at=at,
    )  # fmt: skip


def search_path(kind: str, slug: str, parent_slug: str | None) -> str:
    """The page of a search result."""
    if kind == "module":
        return f"/modules/{slug}"
    if kind == "lesson":
        return f"/modules/{parent_slug}/lecons/{slug}"
    return f"/webinaires/{parent_slug}/{slug}"
