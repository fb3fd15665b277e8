"""Request and response bodies of the sync APIs, shaped as the apps send and read them (AntennaPod's
``NextcloudSyncService`` and ``EpisodeAction``, ``mygpoclient``), and of the app-password API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="What the learner calls the app")]


class AppPasswordCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class AppPasswordRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    hint: str  # its first characters, to tell passwords apart
    created_at: datetime
    last_used_at: datetime | None


class AppPasswordCreated(msgspec.Struct):
    """Shown once: the password, the server address and the login name to type in the app."""

    id: uuid.UUID
    name: str
    password: str
    server: str
    login_name: str
    created_at: datetime


class EpisodeActionIn(msgspec.Struct):
    """An episode action as the apps send it (unknown fields ignored; -1 for « none », as AntennaPod)."""

    podcast: Annotated[str, msgspec.Meta(max_length=2000)]
    episode: Annotated[str, msgspec.Meta(max_length=2000)]
    action: Annotated[str, msgspec.Meta(max_length=20)]
    timestamp: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    guid: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    device: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    started: int | None = None
    position: int | None = None
    total: int | None = None


class SubscriptionChangeIn(msgspec.Struct):
    add: list[Annotated[str, msgspec.Meta(max_length=2000)]] = msgspec.field(default_factory=list)
    remove: list[Annotated[str, msgspec.Meta(max_length=2000)]] = msgspec.field(default_factory=list)


class DeviceIn(msgspec.Struct):
    caption: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    type: Annotated[str, msgspec.Meta(max_length=16)] | None = None


@dataclass(frozen=True, slots=True)
class SyncUser:
    """Who a sync request is from: the account, the app password and the feed token of its URLs."""

    user_id: uuid.UUID
    email: str
    app_password_id: uuid.UUID
    feed_token: str
    session: str | None = None  # a new gpodder.net session cookie to set (after HTTP Basic), or None
