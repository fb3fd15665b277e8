"""What the podcast apps sync: devices, subscriptions and episode actions (gpodder.net API v2 and Nextcloud
gpoddersync speak the same shapes).

Timestamps. Both APIs answer ``timestamp``, the server's clock in Unix seconds, and take it back as
``since``: AntennaPod even keeps its own clock's seconds after an upload and sends those. A change is
therefore dated by the server when it is received, and ``since=T`` answers every change received at or after
the second T (a change may come twice; applying one twice changes nothing, missing one would).

Subscriptions. What an app password (and a gpodder.net device; ``""`` for gpoddersync) is told it subscribes
to: the learner's private feeds of the modules they are enrolled in (with the app password's own feed token),
added once and removed when the learner is no longer enrolled, and whatever the app itself adds or removes.
An app removing a course feed only records that: it never unenrolls, and the feed is not offered again
while the learner stays enrolled.

Episode actions are kept as the apps send them, per account; the same action (every field equal) is kept
once. Turning them into progress is another step (issue 25, item 3).

Feed tokens. The URLs an app is given carry its app password's private-feed token, and the apps send them back
(subscriptions, an action's podcast and episode). Tokens are kept only hashed, so a URL is kept with that
token replaced by ``TOKEN_MARK`` and answered with the token of the app password asking: each app sees its own
addresses, and an action from one app is the same action, in the same form, for the others.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec

from learning.db import models as m
from learning.feeds.services import FeedService
from learning.lib.clock import plausible
from learning.lib.errors import LearningError
from learning.lib.json_bodies import nesting_exceeds
from learning.media.urls import media_path
from learning.podsync.listening import AppListening
from learning.podsync.repositories import SyncRepository
from learning.podsync.schemas import EpisodeActionIn, SyncUser

T = TypeVar("T")
ACTIONS = frozenset({"new", "download", "play", "delete"})
MAX_URL = 2000
MAX_DEVICE = 64
MAX_CHANGES = 1000  # URLs in one subscription change
MAX_ACTIONS = 5000  # actions in one upload
ACTIONS_PAGE = 50_000  # actions in one answer (the timestamp lets the app ask for the rest)
MAX_SECONDS = 10**7  # started, position, total: about 115 days
MAX_SINCE = 10**11
DEVICE_ID = re.compile(r"^[\w.-]{1,64}$", re.ASCII)
DEVICE_TYPES = frozenset({"desktop", "laptop", "mobile", "server", "other"})
WIRE_TIME = "%Y-%m-%dT%H:%M:%S"


class BadSyncRequest(LearningError):
    status_code = 400
    title = "Bad request"


@dataclass(frozen=True, slots=True)
class SubscriptionChanges:
    add: list[str]
    remove: list[str]
    timestamp: int


@dataclass(frozen=True, slots=True)
class ActionChanges:
    actions: list[dict[str, Any]]
    timestamp: int


def parse_body(body: bytes, kind: type[T], max_depth: int) -> T:
    """A JSON body as the apps send it (gPodder's client says ``application/x-www-form-urlencoded`` but sends
    JSON): nesting bounded, types strict; 400 otherwise."""
    if nesting_exceeds(body, max_depth):
        raise BadSyncRequest("The JSON body is nested too deeply.")
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise BadSyncRequest(f"Invalid JSON body: {exc}.") from None


def seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def since_moment(since: int | None) -> datetime:
    if since is None:
        since = 0
    if not 0 <= since <= MAX_SINCE:
        raise BadSyncRequest("'since' is a Unix time in seconds.")
    return datetime.fromtimestamp(since, UTC)


def check_device(device: str) -> str:
    if not DEVICE_ID.match(device):
        raise BadSyncRequest("A device id is 1 to 64 letters, digits, '.', '-' or '_'.")
    return device


# Stands for the asking app password's feed token (a token is URL-safe base64: never "@").
TOKEN_MARK = "@"  # noqa: S105 — a placeholder, not a secret
_PRIVATE = "/feeds/private/"


def stored_url(user: SyncUser, url: str) -> str:
    """``url`` as kept: the app password's own feed token replaced by ``TOKEN_MARK``."""
    return url.replace(f"{_PRIVATE}{user.feed_token}/", f"{_PRIVATE}{TOKEN_MARK}/", 1)


def shown_url(user: SyncUser, url: str) -> str:
    """A kept URL as the app password ``user`` is answered it: with its own feed token."""
    return url.replace(f"{_PRIVATE}{TOKEN_MARK}/", f"{_PRIVATE}{user.feed_token}/", 1)


def _url(value: str) -> str:
    url = value.strip()
    if not 0 < len(url) <= MAX_URL or not url.lower().startswith(("http://", "https://")):
        raise BadSyncRequest(f"Not a feed URL: {url[:100]!r}.")
    return url


def _duration(value: int | None, name: str) -> int | None:
    if value is None or value == -1:  # AntennaPod's « none »
        return None
    if not 0 <= value <= MAX_SECONDS:
        raise BadSyncRequest(f"'{name}' is a number of seconds.")
    return value


def _timestamp(value: str | None) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value[:40])
    except ValueError:
        raise BadSyncRequest(f"'timestamp' is YYYY-MM-DDTHH:MM:SS (UTC): {value[:40]!r}.") from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not plausible(moment):
        raise BadSyncRequest("'timestamp' is out of range.")
    return moment


def _action_row(user: SyncUser, given: EpisodeActionIn, default_device: str, now: datetime) -> dict[str, Any]:
    action = given.action.strip().lower()  # AntennaPod writes lowercase, other apps uppercase
    if action not in ACTIONS:
        raise BadSyncRequest(f"Unknown action {given.action[:20]!r} (new, download, play or delete).")
    device = check_device(given.device) if given.device else default_device
    fields: dict[str, Any] = {
        "device": device,
        "podcast": stored_url(user, _url(given.podcast)),
        "episode": stored_url(user, _url(given.episode)),
        "guid": given.guid[:MAX_URL] if given.guid else None,
        "action": action,
        "timestamp": _timestamp(given.timestamp),
        "started": _duration(given.started, "started"),
        "position": _duration(given.position, "position"),
        "total": _duration(given.total, "total"),
    }
    # What the action says, in a fixed order (msgspec encodes a datetime as RFC 3339): the same action, the same
    # digest, whichever app sent it how.
    identity = msgspec.json.encode(tuple(fields.values()))
    return {
        **fields,
        "received_at": now,
        "digest": hashlib.sha256(identity).hexdigest(),
    }


def action_out(user: SyncUser, row: m.SyncEpisodeAction, *, with_device: bool) -> dict[str, Any]:
    """An action as the apps read it: absent values left out, the timestamp in UTC without a zone, the URLs
    with the asking app password's feed token."""
    out: dict[str, Any] = {
        "podcast": shown_url(user, row.podcast),
        "episode": shown_url(user, row.episode),
        "action": row.action,
    }
    if row.guid is not None:
        out["guid"] = row.guid
    if row.timestamp is not None:
        out["timestamp"] = row.timestamp.astimezone(UTC).strftime(WIRE_TIME)
    if with_device and row.device:
        out["device"] = row.device
    for name in ("started", "position", "total"):
        if (value := getattr(row, name)) is not None:
            out[name] = value
    return out


class SyncService:
    def __init__(self, sync: SyncRepository, feeds: FeedService, listening: AppListening) -> None:
        self.sync = sync
        self.feeds = feeds
        self.listening = listening

    # --- devices (gpodder.net) -------------------------------------------------------------------
    async def devices(self, user: SyncUser) -> list[tuple[m.SyncDevice, int]]:
        """The account's devices and how many feeds each is subscribed to (through this app password)."""
        found = []
        for device in await self.sync.devices(user.user_id):
            rows = await self.sync.subscriptions(user.app_password_id, device.device)
            found.append((device, sum(row.subscribed for row in rows)))
        return found

    async def save_device(
        self, user: SyncUser, device: str, caption: str | None, kind: str | None, now: datetime
    ) -> None:
        """Create a device or change its caption or type."""
        values: dict[str, str] = {}
        if caption is not None:
            values["caption"] = caption[:200]
        if kind is not None:
            if kind not in DEVICE_TYPES:
                raise BadSyncRequest(f"A device's type is one of {', '.join(sorted(DEVICE_TYPES))}.")
            values["kind"] = kind
        await self.sync.save_device(user.user_id, check_device(device), values, now)

    # --- subscriptions ---------------------------------------------------------------------------
    async def subscriptions(self, user: SyncUser, device: str, since: int | None, now: datetime) -> SubscriptionChanges:
        """What changed for this app password and device since ``since`` (everything for 0): the course feeds
        reconciled with the enrollments first."""
        start = since_moment(since)
        rows = await self._reconciled(user, device, now)
        changed = [row for row in rows if row.changed_at >= start]
        return SubscriptionChanges(
            add=sorted(shown_url(user, row.url) for row in changed if row.subscribed),
            remove=sorted(shown_url(user, row.url) for row in changed if not row.subscribed),
            timestamp=seconds(now),
        )

    async def change_subscriptions(
        self, user: SyncUser, device: str, add: Sequence[str], remove: Sequence[str], now: datetime
    ) -> int:
        """Record what the app added and removed; the timestamp to ask for changes from."""
        if len(add) + len(remove) > MAX_CHANGES:
            raise BadSyncRequest(f"At most {MAX_CHANGES} URLs at once.")
        added = {stored_url(user, _url(url)) for url in add}
        removed = {stored_url(user, _url(url)) for url in remove}
        if added & removed:
            raise BadSyncRequest("A URL cannot be both added and removed.")
        if device:
            await self.sync.save_device(user.user_id, check_device(device), {}, now)
        rows = {row.url: row for row in await self._reconciled(user, device, now)}
        for url, subscribed in [*((url, True) for url in added), *((url, False) for url in removed)]:
            row = rows.get(url)
            if row is None:
                await self.sync.add_subscription(
                    m.SyncSubscription(
                        app_password_id=user.app_password_id,
                        device=device,
                        url=url,
                        url_hash=hashlib.sha256(url.encode()).hexdigest(),
                        subscribed=subscribed,
                        from_course=False,
                        changed_at=now,
                    )
                )
            elif row.subscribed != subscribed:
                row.subscribed, row.changed_at = subscribed, now
        await self.sync.flush()
        return seconds(now)

    async def _reconciled(self, user: SyncUser, device: str, now: datetime) -> list[m.SyncSubscription]:
        await self.sync.lock_password(user.app_password_id)
        rows = await self.sync.subscriptions(user.app_password_id, device)
        known = {row.url: row for row in rows}
        course = {stored_url(user, feed.url) for feed in await self.feeds.private_feeds(user.user_id, user.feed_token)}
        for url in sorted(course - known.keys()):
            row = m.SyncSubscription(
                app_password_id=user.app_password_id, device=device, url=url,
                url_hash=hashlib.sha256(url.encode()).hexdigest(), subscribed=True, from_course=True, changed_at=now,
            )  # fmt: skip
            await self.sync.add_subscription(row)
            rows.append(row)
        for row in rows:
            if row.from_course and row.subscribed and row.url not in course:  # no longer enrolled
                row.subscribed, row.changed_at = False, now
        await self.sync.flush()
        return rows

    # --- episode actions -------------------------------------------------------------------------
    async def upload_actions(
        self, user: SyncUser, actions: Sequence[EpisodeActionIn], default_device: str, now: datetime
    ) -> int:
        """Keep the actions (each once), the new ``play`` ones becoming progress (``AppListening``); the timestamp
        to ask for changes from."""
        if len(actions) > MAX_ACTIONS:
            raise BadSyncRequest(f"At most {MAX_ACTIONS} actions at once.")
        rows = {row["digest"]: row for row in (_action_row(user, given, default_device, now) for given in actions)}
        await self.listening.keep(user.user_id, user.app_password_id, list(rows.values()), now)
        return seconds(now)

    async def actions(
        self, user: SyncUser, since: int | None, now: datetime, *, podcast: str | None = None,
        device: str | None = None, with_device: bool = True, latest: bool = False,
    ) -> ActionChanges:  # fmt: skip
        """The actions received since ``since`` (all the account's apps'), oldest first, a page at most
        (``latest``: gpodder.net's ``aggregated``, only the latest action of each episode)."""
        rows = await self.sync.actions(
            user.user_id,
            since_moment(since),
            podcast=podcast and stored_url(user, podcast),
            device=device,
            limit=ACTIONS_PAGE,
        )
        timestamp = seconds(now)
        if len(rows) == ACTIONS_PAGE:  # the next request starts at the last one's second (it comes again)
            first, last = seconds(rows[0].received_at), seconds(rows[-1].received_at)
            timestamp = last if last > first else last + 1  # a whole page in one second: past it, not forever

        out = [action_out(user, row, with_device=with_device) for row in rows]
        if len(rows) < ACTIONS_PAGE and device is None:  # the last page: then where the web player is
            out += [
                found for found in await self._web_positions(user, since_moment(since))
                if podcast is None or found["podcast"] == podcast
            ]  # fmt: skip
        if latest:  # each episode's last action by its time (an action without one counts as received)
            newest: dict[str, dict[str, Any]] = {}
            for found in sorted(out, key=lambda action: action.get("timestamp", "")):
                newest[found["episode"]] = found
            out = list(newest.values())
        return ActionChanges(out, timestamp)

    async def kept_actions(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every episode action the learner's apps sent (at most a page), as kept: feed tokens masked (the
        account export)."""
        rows = await self.sync.actions(user_id, since_moment(0), podcast=None, device=None, limit=ACTIONS_PAGE)
        return [
            {"device": row.device, "podcast": row.podcast, "episode": row.episode, "guid": row.guid,
             "action": row.action, "timestamp": row.timestamp.isoformat() if row.timestamp else None,
             "started": row.started, "position": row.position, "total": row.total,
             "received_at": row.received_at.isoformat()}
            for row in rows
        ]  # fmt: skip

    async def _web_positions(self, user: SyncUser, since: datetime) -> list[dict[str, Any]]:
        """The learner's latest positions (web player or app) as ``play`` actions of this app's private feeds, so
        the app resumes where they left off; an app's own position comes back as it sent it."""
        base = self.feeds.base
        return [
            {
                "podcast": shown_url(user, f"{base}{_PRIVATE}{TOKEN_MARK}/modules/{found.module_slug}.xml"),
                "episode": shown_url(user, f"{base}{_PRIVATE}{TOKEN_MARK}{media_path(found.asset)}"),
                "guid": str(found.lesson_id), "action": "play",
                "timestamp": found.moment.astimezone(UTC).strftime(WIRE_TIME),
                "position": int(found.position), "total": found.duration,
            }
            for found in await self.sync.web_positions(user.user_id, since)
        ]  # fmt: skip
