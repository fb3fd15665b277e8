"""Feeds from the catalog: the channel of a webinar series or a module, its version, its private variant.

A feed's ETag is a digest of the ``Channel`` value (every text, URL, date and status that goes into it)
and of the renderer, so it changes exactly when the bytes do, never because a cache was rebuilt, and it is
known before any XML is built. A public feed's Last-Modified and lastBuildDate are the newest content change
or the instant that digest last changed (``feed_version``), whichever is later: they move with the bytes
too, a new public base URL included, so a client sending only If-Modified-Since never keeps stale URLs.

Time matters too: a scheduled item appears at its publication time and a webinar's ``podcast:liveItem`` goes
from pending to live to ended; ``FeedView.expires`` says when the next such change is due.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, TypeVar

import anyio.to_thread

from learning.db import models as m
from learning.feeds.model import Channel, Enclosure, Item, LiveItem, Person, Transcript
from learning.feeds.repositories import AssetRow, FeedRepository, SessionRow
from learning.lib.calendar import CalendarView, render_calendar, session_event
from learning.lib.errors import LearningError, NotFound
from learning.media.formats import MP3
from learning.media.urls import media_path

FeedFormat = Literal["rss", "atom"]
Asset = m.MediaAsset | AssetRow  # a lesson's ORM asset or a series session's plain row
MediaUrl = Callable[[Asset], str]
A = TypeVar("A", m.MediaAsset, AssetRow)


class FeedNotFound(NotFound):
    title = "Feed not found"


class FeedGone(LearningError):
    """A private-feed token that was revoked or replaced, or whose account was deleted: 410 tells podcast apps to
    stop asking (a 404 they retry)."""

    status_code = 410
    title = "Gone"


def private_podcast_guid(public: uuid.UUID, subscriber: uuid.UUID) -> uuid.UUID:
    """A private feed's ``podcast:guid``: derived from the public feed's and its learner, so it is stable for that
    subscriber (across token rotations) and never the public feed's (apps must not merge the two feeds)."""
    return uuid.uuid5(public, f"private-feed:{subscriber}")


@dataclass(frozen=True, slots=True)
class FeedView:
    channel: Channel
    version: str  # digest of the channel: the ETag's value
    expires: datetime | None  # when time alone changes the feed next

    def etag(self, fmt: FeedFormat) -> str:
        return f'"{self.version}-{fmt}"'


def _ready(asset: A | None) -> A | None:
    return asset if asset is not None and asset.status is m.MediaStatus.READY else None


def _digest(channel: Channel, renderer: str) -> str:
    """The version of a channel: every value in it (its items' included) and the renderer's fingerprint. Each
    item's part is kept once made (items are frozen values), so a feed of a thousand episodes costs a thousand
    lookups, not the text of a thousand episodes, after its first time."""
    parts = [renderer, repr(replace(channel, items=())), *(_item_digest(item) for item in channel.items)]
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


@functools.lru_cache(maxsize=8192)
def _item_digest(item: Item) -> str:
    return hashlib.blake2b(repr(item).encode(), digest_size=16).hexdigest()


def _revised(row: m.Lesson | SessionRow) -> datetime | None:
    """When an episode's row changed after it was created (None if never): its Atom ``updated`` when later
    than its date."""
    return row.updated_at.replace(microsecond=0) if row.updated_at > row.created_at else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PrivateFeed:
    """A learner's private feed of a module (its address carries their token)."""

    module: str
    title: str
    url: str


class FeedService:
    def __init__(
        self, feeds: FeedRepository, base_url: str, renderer: str = "", *, page_items: int = 1000,
        owner: tuple[str, str] = ("", ""),
    ) -> None:  # fmt: skip
        self.feeds = feeds
        self.base = base_url.rstrip("/")
        self.renderer = renderer  # what identifies the renderer's output (``render.fingerprint``)
        self.page_items = page_items  # episodes per document: a longer feed is paged (``_paged``)
        self.owner = owner  # the installation's (name, e-mail), for feeds whose file names no owner

    # --- public feeds ---------------------------------------------------------------------------
    async def series_feed(self, slug: str, now: datetime, page: int = 1) -> FeedView:
        feed = await self.feeds.feed(m.FeedKind.WEBINAR_SERIES, slug)
        series = await self.feeds.series(slug, now) if feed is not None else None
        if feed is None or series is None:
            raise FeedNotFound(f"No feed for the webinar series '{slug}'.")
        rows = await self.feeds.series_sessions(series.id)
        sessions = [s for s in rows if s.status is not m.SessionStatus.CANCELLED]
        replays = [replay.id for s in sessions if (replay := _ready(s.replay)) is not None]
        audio = await self.feeds.audio_renditions(replays)
        # Everything is loaded: the channel (one item per session, thousands in a large series) is built
        # in a worker thread, and so is its digest, so the event loop answers other requests meanwhile.
        built = await anyio.to_thread.run_sync(self._series_channel, feed, series, sessions, audio, now, page)
        return await self._view(feed, *built, now, record=page == 1)

    async def series_calendar(self, slug: str, now: datetime) -> CalendarView:
        """The series' published sessions as an iCalendar document (cancelled ones included, marked so)."""
        series = await self.feeds.series(slug, now)
        if series is None:
            raise FeedNotFound(f"No calendar for the webinar series '{slug}'.")
        rows = await self.feeds.series_sessions(series.id)
        events = [
            session_event(row, f"{self.base}/webinaires/{series.slug}/{row.slug}")
            for row in rows
            if m.is_visible(row, now)
        ]
        return render_calendar(series.title, series.timezone, events)

    def _series_channel(
        self, feed: m.PodcastFeed, series: m.WebinarSeries, sessions: list[SessionRow],
        audio: dict[uuid.UUID, AssetRow], now: datetime, page: int,
    ) -> tuple[Channel, str, list[datetime]]:  # fmt: skip
        """The series' channel (page ``page`` of it), its digest, and when time alone changes it next (the moments
        to come)."""
        numbers = {s.id: n for n, s in enumerate(sorted(sessions, key=lambda s: s.scheduled_at), start=1)}
        items: list[Item] = []
        live: list[LiveItem] = []
        changes: list[datetime] = []
        notice = _ready(feed.live_enclosure)
        stand_in = _enclosure(notice, self._public_media, "Séance à venir") if notice else None
        updated = [feed.updated_at, series.updated_at]
        for session in sorted(sessions, key=lambda s: s.scheduled_at, reverse=True):
            if (due := m.publishes_later(session, now)) is not None:
                changes.append(due)
            if not m.is_visible(session, now):
                continue
            link = f"{self.base}/webinaires/{series.slug}/{session.slug}"
            persons = tuple(_person(speaker) for speaker in session.speakers if speaker.get("name"))
            replay = _ready(session.replay)
            updated.append(session.updated_at)
            if replay is None:
                start, end = session.scheduled_at, session.scheduled_at + timedelta(minutes=session.duration_minutes)
                changes += [moment for moment in (start, end) if moment > now]
                updated += [moment for moment in (start, end) if moment <= now]
                status: Literal["pending", "live", "ended"] = (
                    "pending" if now < start else "live" if now < end else "ended"
                )
                live.append(
                    LiveItem(guid=str(session.id), title=session.title, description_html=session.body_html or
                             session.summary, link=link, status=status, start=start, end=end,
                             content_link=session.join_url or link,  # where to follow it: the room, else its page
                             enclosure=stand_in, persons=persons)
                )  # fmt: skip
                continue
            items.append(
                self._item(
                    guid=str(session.id), title=session.title, html=session.body_html, summary=session.summary,
                    link=link, published=session.scheduled_at, revised=_revised(session), media=replay,
                    audio=audio.get(replay.id),
                    transcript=_ready(session.transcript), chapters=_ready(session.chapters),
                    artwork=_ready(session.artwork), episode=numbers[session.id], season=series.year,
                    persons=persons, updated=updated, media_url=self._public_media,
                )
            )  # fmt: skip
        link = f"{self.base}/webinaires/{series.slug}"
        url = f"{self.base}/feeds/webinars/{series.slug}"
        channel = self._paged(self._channel(feed, link, url, updated, items, live), page)
        return channel, _digest(channel, self.renderer), changes

    async def module_feed(
        self, slug: str, now: datetime, page: int = 1, *, private_token: str | None = None,
        subscriber: uuid.UUID | None = None,
    ) -> FeedView:  # fmt: skip
        feed = await self.feeds.feed(m.FeedKind.MODULE, slug)
        module = await self.feeds.module(slug, now) if feed is not None else None
        if feed is None or module is None:
            raise FeedNotFound(f"No feed for the module '{slug}'.")
        lessons = sorted(module.lessons, key=lambda lesson: lesson.position)
        audio = await self.feeds.audio_renditions([a.id for lesson in lessons if (a := _ready(lesson.media))])
        built = await anyio.to_thread.run_sync(
            functools.partial(self._module_channel, feed, module, lessons, audio, now, page, private_token, subscriber)
        )
        return await self._view(feed, *built, now, record=private_token is None and page == 1)

    def _module_channel(
        self, feed: m.PodcastFeed, module: m.Module, lessons: list[m.Lesson], audio: dict[uuid.UUID, AssetRow],
        now: datetime, page: int, private_token: str | None, subscriber: uuid.UUID | None,
    ) -> tuple[Channel, str, list[datetime]]:  # fmt: skip
        """The module's channel (a learner's private one with ``private_token``; page ``page`` of it), its digest,
        and when time alone changes it next."""
        media_url = self._public_media if private_token is None else self._private_media(private_token)
        items: list[Item] = []
        changes = [due for lesson in lessons if (due := m.publishes_later(lesson, now)) is not None]
        updated = [feed.updated_at, module.updated_at]
        for number, lesson in enumerate(lessons, start=1):
            media = _ready(lesson.media)
            if media is None or not m.is_visible(lesson, now):
                continue
            updated.append(lesson.updated_at)
            items.append(
                self._item(
                    guid=str(lesson.id), title=lesson.title, html=lesson.body_html, summary=lesson.summary,
                    link=f"{self.base}/modules/{module.slug}/lecons/{lesson.slug}",
                    published=lesson.published_at or lesson.publish_at or lesson.created_at,
                    revised=_revised(lesson), media=media, audio=audio.get(media.id),
                    transcript=_ready(lesson.transcript), chapters=_ready(lesson.chapters),
                    artwork=_ready(lesson.artwork), episode=number, season=None, persons=(), updated=updated,
                    media_url=media_url,
                )
            )  # fmt: skip
        items.reverse()  # newest (last lesson) first, as feeds list them
        link = f"{self.base}/modules/{module.slug}"
        if private_token is None:
            url = f"{self.base}/feeds/modules/{module.slug}"
        else:
            url = f"{self.base}/feeds/private/{private_token}/modules/{module.slug}"
        guid = private_podcast_guid(feed.podcast_guid, subscriber) if subscriber is not None else None
        channel = self._channel(feed, link, url, updated, items, [], private=private_token is not None, guid=guid)
        channel = self._paged(channel, page)
        return channel, _digest(channel, self.renderer), changes

    def _paged(self, channel: Channel, page: int) -> Channel:
        """Page ``page`` of ``channel``: at most ``page_items`` episodes, newest first, the subscription document
        (page 1) holding the newest and the live items; 404 past the last page. A feed of 5,000 episodes is five
        documents of 1,000, not one of 27 MB; apps that follow RFC 5005 (gPodder, AntennaPod) read them all."""
        pages = max(1, -(-len(channel.items) // self.page_items))
        if page > pages:
            raise FeedNotFound(f"This feed has {pages} page(s).")
        if pages == 1:
            return channel
        start = (page - 1) * self.page_items
        return replace(
            channel, items=channel.items[start : start + self.page_items], page=page, pages=pages,
            live_items=channel.live_items if page == 1 else (),
        )  # fmt: skip

    async def _view(
        self, feed: m.PodcastFeed, channel: Channel, digest: str, changes: list[datetime], now: datetime, *,
        record: bool,
    ) -> FeedView:  # fmt: skip
        """The feed's version and dates: a public feed's subscription document records its digest (``record``);
        its other pages, and a learner's private feed, read the instant it last changed (the same content under
        other URLs)."""
        if record:
            changed_at: datetime | None = await self.feeds.record_version(feed.id, digest, now)
        else:
            changed_at = await self.feeds.version_changed_at(feed.id)
        if changed_at is not None and changed_at > channel.updated:
            channel = replace(channel, updated=changed_at)
            digest = await anyio.to_thread.run_sync(_digest, channel, self.renderer)
        return FeedView(channel, digest, min(changes, default=None))

    # --- private feeds --------------------------------------------------------------------------
    async def private_owner(self, token: str) -> uuid.UUID:
        """The learner a private-feed token belongs to; 410 for a revoked or replaced token, or one whose account
        was deleted (either way its row is kept, with no owner in the latter case), 404 for an unknown one."""
        if len(token) > 100:
            raise FeedNotFound("No such feed.")
        row = await self.feeds.token(hash_token(token))
        if row is None:  # looked up by its hash: equal hashes, no timing to compare
            raise FeedNotFound("No such feed.")
        if row.user_id is None:  # the account was deleted (the database revoked the token then)
            raise FeedGone(
                "Ce lien de flux privé ne fonctionne plus : le compte auquel il appartenait a été supprimé. "
                "Retirez cet abonnement de votre application de podcasts."
            )
        if row.revoked_at is not None:
            raise FeedGone(
                "Ce lien de flux privé a été révoqué ou remplacé : abonnez-vous avec le nouveau lien "
                "indiqué sur votre page « Mon compte »."
            )
        return row.user_id

    async def private_module_feed(self, token: str, slug: str, now: datetime, page: int = 1) -> FeedView:
        user_id = await self.private_owner(token)
        if slug not in {module.slug for module in await self.feeds.enrolled_modules(user_id)}:
            raise FeedNotFound("No such feed.")
        return await self.module_feed(slug, now, page, private_token=token, subscriber=user_id)

    async def private_asset(self, token: str, asset_id: uuid.UUID) -> m.MediaAsset:
        user_id = await self.private_owner(token)
        asset = await self.feeds.enrolled_asset(user_id, asset_id)
        if asset is None:
            raise FeedNotFound("No such media file.")
        return asset

    async def issue_token(self, user_id: uuid.UUID, now: datetime) -> tuple[str, m.PrivateFeedToken]:
        """A new private-feed token (256 random bits); any previous one stops working."""
        await self.feeds.revoke_all(user_id, now)
        token = secrets.token_urlsafe(32)
        row = m.PrivateFeedToken(user_id=user_id, token_hash=hash_token(token), hint=token[:6])
        await self.feeds.add(row)
        return token, row

    async def adopt_token(self, user_id: uuid.UUID, token: str) -> m.PrivateFeedToken:
        """Keep ``token`` (made by the caller, at least 256 bits) as a private-feed token of the learner beside
        their own: a podcast app's password has one, so the feeds it subscribes to can be named again later."""
        row = m.PrivateFeedToken(user_id=user_id, token_hash=hash_token(token), hint=token[:6])
        await self.feeds.add(row)
        return row

    async def revoke_token(self, token_id: uuid.UUID, now: datetime) -> None:
        """Revoke one token (an app password's): its feeds and media answer 410 from now on."""
        await self.feeds.revoke_token(token_id, now)

    async def revoke_tokens(self, user_id: uuid.UUID, now: datetime) -> int:
        return await self.feeds.revoke_all(user_id, now)

    async def current_token(self, user_id: uuid.UUID) -> m.PrivateFeedToken | None:
        tokens = await self.feeds.user_tokens(user_id)
        return max(tokens, key=lambda row: row.created_at) if tokens else None

    async def private_feeds(self, user_id: uuid.UUID, token: str) -> list[PrivateFeed]:
        """The learner's private feeds, one per module they follow, named after it."""
        modules = await self.feeds.enrolled_modules(user_id)
        return [
            PrivateFeed(module.slug, module.title, f"{self.base}/feeds/private/{token}/modules/{module.slug}.xml")
            for module in modules
        ]

    # --- building blocks ------------------------------------------------------------------------
    def _public_media(self, asset: Asset) -> str:
        return self.base + media_path(asset)

    def _private_media(self, token: str) -> MediaUrl:
        def url(asset: Asset) -> str:
            return f"{self.base}/feeds/private/{token}{media_path(asset)}"

        return url

    def _item(
        self, *, guid: str, title: str, html: str, summary: str, link: str, published: datetime,
        revised: datetime | None, media: Asset, audio: Asset | None, transcript: Asset | None,
        chapters: Asset | None, artwork: Asset | None, episode: int | None, season: int | None,
        persons: tuple[Person, ...], updated: list[datetime], media_url: MediaUrl,
    ) -> Item:  # fmt: skip
        # Audio first: a video replay is enclosed as its audio-only .m4a; the video is the alternate. An
        # uploaded M4A (or WebM) too: its rendition has its index first, the original maybe not. An MP3 has
        # no index to place and plays everywhere: it is enclosed as it is.
        main = audio if audio is not None and media.mime_type != MP3.mime_type else media
        alternates = (
            (_enclosure(media, media_url, "Vidéo"),) if main is not media and media.kind is m.MediaKind.VIDEO else ()
        )
        updated += [asset.updated_at for asset in (media, audio, transcript, chapters, artwork) if asset]
        return Item(
            guid=guid, title=title, description_html=html or summary, summary=summary, link=link,
            published=published, updated=max(published, revised) if revised is not None else published,
            enclosure=_enclosure(main, media_url, "Audio"), duration_seconds=round(main.duration_seconds or 0),
            episode=episode, season=season, alternate_enclosures=alternates,
            transcript=Transcript(media_url(transcript), transcript.mime_type) if transcript else None,
            chapters_url=media_url(chapters) if chapters else None,
            image_url=media_url(artwork) if artwork else None, persons=persons,
        )  # fmt: skip

    def _channel(
        self, feed: m.PodcastFeed, link: str, url: str, updated: Iterable[datetime], items: list[Item],
        live: list[LiveItem], *, private: bool = False, guid: uuid.UUID | None = None,
    ) -> Channel:  # fmt: skip
        artwork = _ready(feed.artwork)
        return Channel(
            title=feed.title, description=feed.description, link=link, feed_url=f"{url}.xml",
            atom_url=f"{url}.atom", language=feed.language,
            image_url=self._public_media(artwork) if artwork else "", category=feed.category,
            subcategory=feed.subcategory, explicit=feed.explicit, author=feed.author,
            owner_name=feed.owner_name or self.owner[0], owner_email=feed.owner_email or self.owner[1],
            podcast_type="serial" if feed.podcast_type == "serial" else "episodic",
            # itunes:complete: no episode will be added, so not while a session is to come or live.
            complete=feed.complete and all(item.status == "ended" for item in live),
            guid=guid or feed.podcast_guid, locked=feed.locked, medium=feed.medium,
            copyright=feed.copyright, updated=max(updated).replace(microsecond=0), items=tuple(items),
            live_items=tuple(live), private=private,
            update_frequency=(feed.update_rrule, feed.update_text) if feed.update_rrule and feed.update_text else None,
        )  # fmt: skip


def _enclosure(asset: Asset, media_url: MediaUrl, title: str) -> Enclosure:
    duration = asset.duration_seconds or 0
    bitrate = round(asset.size_bytes * 8 / duration) if duration > 0 else None
    return Enclosure(media_url(asset), asset.size_bytes, asset.mime_type, title=title, bitrate=bitrate)


def _person(speaker: dict[str, str]) -> Person:
    role = speaker.get("role", "guest")
    return Person(name=speaker["name"], role=role if role in {"host", "guest"} else "guest")
