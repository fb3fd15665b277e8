"""Bodies of the catalog API (public reads and admin writes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec

from learning.db import models as m
from learning.lib.openapi import STORABLE_TEXT

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=120)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300, extra_json_schema=STORABLE_TEXT)]
Text = Annotated[str, msgspec.Meta(max_length=200_000, extra_json_schema=STORABLE_TEXT)]
Objectives = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=300, extra_json_schema=STORABLE_TEXT)]],
    msgspec.Meta(max_length=8),
]
Tag = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]


class MediaRef(msgspec.Struct):
    """A playable file: its stable URL, type and size (duration when known)."""

    id: uuid.UUID
    url: str
    mime_type: str
    size_bytes: int
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


class ParentRef(msgspec.Struct):
    slug: str
    title: str
    notice: str  # what the module or series is (its framing), shown with each of its items; "" when none


class LessonSummary(msgspec.Struct):
    id: uuid.UUID
    slug: str
    position: int
    title: str
    summary: str
    kind: m.LessonKind
    duration_seconds: int
    media: MediaRef | None


class LessonDetail(msgspec.Struct):
    id: uuid.UUID
    slug: str
    position: int
    title: str
    summary: str
    kind: m.LessonKind
    duration_seconds: int
    completion_rule: m.CompletionRule
    completion_threshold: float
    tags: list[str]
    body_markdown: str
    body_html: str
    media: MediaRef | None
    transcript: MediaRef | None
    chapters: MediaRef | None
    artwork: MediaRef | None
    module: ParentRef
    previous_lesson: str | None
    next_lesson: str | None


class ModuleSummary(msgspec.Struct):
    slug: str
    position: int
    title: str
    summary: str
    tags: list[str]
    lesson_count: int


class ModuleDetail(msgspec.Struct):
    slug: str
    position: int
    title: str
    summary: str
    tags: list[str]
    description_markdown: str
    description_html: str
    notice: str  # what this module is (the shipped course: a reconstitution, and from what); "" when none
    objectives: list[str]  # « À la fin de ce module, vous saurez… »
    audience: str
    prerequisites: str
    duration_seconds: int  # its published lessons' durations added up (measured media, reading time of texts)
    lessons: list[LessonSummary]


class Speaker(msgspec.Struct):
    name: str
    organisation: str
    role: str


class SessionSummary(msgspec.Struct):
    slug: str
    title: str
    summary: str
    scheduled_at: datetime
    duration_minutes: int
    status: m.SessionStatus
    cancel_reason: str  # why an admin cancelled it ("" otherwise)
    join_url: str | None  # where to attend (an external room), while it is upcoming or live
    speakers: list[Speaker]
    tags: list[str]
    replay: MediaRef | None


class SessionDetail(msgspec.Struct):
    slug: str
    title: str
    summary: str
    scheduled_at: datetime
    duration_minutes: int
    status: m.SessionStatus
    cancel_reason: str  # why an admin cancelled it ("" otherwise)
    join_url: str | None  # where to attend (an external room), while it is upcoming or live
    speakers: list[Speaker]
    tags: list[str]
    replay: MediaRef | None
    transcript: MediaRef | None
    chapters: MediaRef | None
    artwork: MediaRef | None
    body_markdown: str
    body_html: str
    series: ParentRef


class SeriesSummary(msgspec.Struct):
    slug: str
    title: str
    summary: str
    notice: str  # what this series is (the shipped one: a reconstituted programme); "" when none
    organiser: str
    year: int | None
    tags: list[str]


class SessionPage(msgspec.Struct):
    items: list[SessionSummary]
    total: int
    limit: int
    offset: int


class SeriesDetail(msgspec.Struct):
    slug: str
    title: str
    summary: str
    notice: str
    organiser: str
    year: int | None
    timezone: str
    tags: list[str]
    description_markdown: str
    description_html: str
    sessions: SessionPage


class SearchResult(msgspec.Struct):
    kind: str
    title: str
    slug: str
    parent_slug: str | None
    path: str
    snippet_html: str
    rank: float


class SearchPage(msgspec.Struct):
    """A page of search results: the fields of every list page, and whether ``total`` is only a lower bound."""

    items: list[SearchResult]
    total: Annotated[
        int,
        msgspec.Meta(
            description="Matching items: exact when `total_is_lower_bound` is false, else the count cap "
            "(there are more)."
        ),
    ]
    limit: int
    offset: int
    total_is_lower_bound: Annotated[
        bool,
        msgspec.Meta(
            description="True when more items match than the server counts (its count cap, 1,000 by default): "
            "`total` is then that cap, and the exact number is not given."
        ),
    ]


# --- admin ------------------------------------------------------------------------------------
class PublicationChange(msgspec.Struct, forbid_unknown_fields=True):
    """Publish now, schedule for ``publish_at``, or unpublish (``draft``): what the editor applies."""

    state: m.Publication
    publish_at: datetime | None = None


# The API's publication bodies, one shape per state (a tagged union on ``state``): msgspec requires
# publish_at with "scheduled" and refuses it with the other states, and the document says so (a oneOf with
# ``state`` as its discriminator). The editor checks the date itself (a UTC offset, between 1900 and 2200).
class _PublicationState(msgspec.Struct, forbid_unknown_fields=True, tag_field="state"):
    def change(self) -> PublicationChange:
        return PublicationChange(state=m.Publication(str(self.__struct_config__.tag)))


class Publish(_PublicationState, tag=m.Publication.PUBLISHED.value):
    """Publish now."""


class Unpublish(_PublicationState, tag=m.Publication.DRAFT.value):
    """Back to draft: hidden from the public."""


class Schedule(_PublicationState, tag=m.Publication.SCHEDULED.value):
    """Publish at ``publish_at``."""

    publish_at: Annotated[datetime, msgspec.Meta(description="With its UTC offset, between 1900 and 2200")]

    def change(self) -> PublicationChange:
        return PublicationChange(state=m.Publication.SCHEDULED, publish_at=self.publish_at)


PublicationRequest = Publish | Unpublish | Schedule


class PublicationRead(msgspec.Struct):
    state: m.Publication
    publish_at: datetime | None
    visible: bool


class AdminItem(msgspec.Struct):
    """What the admin API answers after a change: the item and its publication state."""

    id: uuid.UUID
    slug: str
    title: str
    publication: m.Publication
    publish_at: datetime | None
    updated_at: datetime


class ModuleCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Title
    summary: Text = ""
    description_markdown: Text = ""
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0
    tags: Tags = msgspec.field(default_factory=list)
    notice: Text = ""
    objectives: Objectives = msgspec.field(default_factory=list)
    audience: Text = ""
    prerequisites: Text = ""


class ModuleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    summary: Text | None = None
    description_markdown: Text | None = None
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    tags: Tags | None = None
    notice: Text | None = None
    objectives: Objectives | None = None
    audience: Text | None = None
    prerequisites: Text | None = None


class LessonCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Title
    kind: m.LessonKind
    position: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    summary: Text = ""
    body_markdown: Text = ""
    duration_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] = 0
    completion_threshold: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.9
    tags: Tags = msgspec.field(default_factory=list)


class LessonUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    position: Annotated[int, msgspec.Meta(ge=1, le=10_000)] | None = None
    summary: Text | None = None
    body_markdown: Text | None = None
    duration_seconds: Annotated[int, msgspec.Meta(ge=0, le=86_400)] | None = None
    completion_threshold: Annotated[float, msgspec.Meta(gt=0, le=1)] | None = None
    tags: Tags | None = None


class SpeakerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, extra_json_schema=STORABLE_TEXT)]
    organisation: Annotated[str, msgspec.Meta(max_length=200, extra_json_schema=STORABLE_TEXT)] = ""
    role: Annotated[str, msgspec.Meta(pattern="^(host|guest)$")] = "guest"


JoinUrl = Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^(|https?://\S+)$")]  # "" clears it
CancelReason = Annotated[str, msgspec.Meta(max_length=1000, extra_json_schema=STORABLE_TEXT)]


class SessionCreate(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Title
    scheduled_at: datetime
    summary: Text = ""
    body_markdown: Text = ""
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] = 60
    status: m.SessionStatus = m.SessionStatus.UPCOMING
    speakers: Annotated[list[SpeakerIn], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    tags: Tags = msgspec.field(default_factory=list)
    join_url: JoinUrl = ""
    cancel_reason: CancelReason = ""


class SessionUpdate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title | None = None
    scheduled_at: datetime | None = None
    summary: Text | None = None
    body_markdown: Text | None = None
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=24 * 60)] | None = None
    status: m.SessionStatus | None = None
    speakers: Annotated[list[SpeakerIn], msgspec.Meta(max_length=50)] | None = None
    tags: Tags | None = None
    join_url: JoinUrl | None = None
    cancel_reason: CancelReason | None = None


@dataclass(frozen=True, slots=True)
class Episode:
    """A webinar session or a lesson, drafts too, as the admin desk lists it."""

    kind: m.UploadTarget
    id: uuid.UUID
    parent_slug: str
    parent_title: str
    slug: str
    title: str
    publication: m.Publication
    publish_at: datetime | None
    media_id: uuid.UUID | None
    scheduled_at: datetime | None = None
    lesson_kind: m.LessonKind | None = None
    # The module's or series' own publication: the public sees an item only when both are visible.
    parent_publication: m.Publication = m.Publication.PUBLISHED
    parent_publish_at: datetime | None = None

    @property
    def target(self) -> str:
        """The tus ``target`` metadata naming this episode."""
        prefix = "session" if self.kind is m.UploadTarget.WEBINAR_SESSION else "lesson"
        return f"{prefix}:{self.parent_slug}/{self.slug}"

    @property
    def public_path(self) -> str:
        if self.kind is m.UploadTarget.WEBINAR_SESSION:
            return f"/webinaires/{self.parent_slug}/{self.slug}"
        return f"/modules/{self.parent_slug}/lecons/{self.slug}"
