"""All models, importable as ``from learning.db import models as m``."""

from learning.db.base import Base
from learning.db.models.accounts import RateLimitCounter, RevokedToken, Role, UserAccount
from learning.db.models.attestations import COURSE_SUBJECT, Attestation
from learning.db.models.catalog import (
    CompletionRule,
    ContentManifest,
    Lesson,
    LessonKind,
    Module,
    Origin,
    Publication,
    SearchPassage,
    SessionStatus,
    WebinarSeries,
    WebinarSession,
    is_visible,
    publishes_later,
    session_state,
)
from learning.db.models.downloads import DownloadDay, ListenerSalt, MediaDownload, MediaRequest
from learning.db.models.feeds import FeedKind, FeedVersion, PodcastFeed, PrivateFeedToken
from learning.db.models.mail import EmailConfirmation, MailMessage, PasswordReset
from learning.db.models.media import MediaAsset, MediaKind, MediaStatus, Rendition
from learning.db.models.podsync import (
    AppPassword,
    LoginFlow,
    SyncDevice,
    SyncEpisodeAction,
    SyncSubscription,
)
from learning.db.models.progress import (
    Enrollment,
    EnrollmentStatus,
    EventKind,
    LessonProgress,
    ModuleProgressChange,
    ModuleProgressTally,
    ProgressEvent,
)
from learning.db.models.quizzes import Quiz, QuizAttempt
from learning.db.models.registrations import SessionRegistration
from learning.db.models.uploads import Upload, UploadStatus, UploadTarget

__all__ = [
    "COURSE_SUBJECT",
    "AppPassword",
    "Attestation",
    "Base",
    "CompletionRule",
    "ContentManifest",
    "DownloadDay",
    "EmailConfirmation",
    "Enrollment",
    "EnrollmentStatus",
    "EventKind",
    "FeedKind",
    "FeedVersion",
    "Lesson",
    "LessonKind",
    "LessonProgress",
    "ListenerSalt",
    "LoginFlow",
    "MailMessage",
    "MediaAsset",
    "MediaDownload",
    "MediaKind",
    "MediaRequest",
    "MediaStatus",
    "Module",
    "ModuleProgressChange",
    "ModuleProgressTally",
    "Origin",
    "PasswordReset",
    "PodcastFeed",
    "PrivateFeedToken",
    "ProgressEvent",
    "Publication",
    "Quiz",
    "QuizAttempt",
    "RateLimitCounter",
    "Rendition",
    "RevokedToken",
    "Role",
    "SearchPassage",
    "SessionRegistration",
    "SessionStatus",
    "SyncDevice",
    "SyncEpisodeAction",
    "SyncSubscription",
    "Upload",
    "UploadStatus",
    "UploadTarget",
    "UserAccount",
    "WebinarSeries",
    "WebinarSession",
    "is_visible",
    "publishes_later",
    "session_state",
]
