"""What a feed is made of, as plain immutable values: built from the database by the feed service,
rendered to RSS 2.0 (iTunes + Podcasting 2.0 namespaces) or Atom 1.0 by ``feeds.render``.

All URLs here are absolute. Texts are the raw stored texts: rendering sanitises them (control characters
removed, documented length limits applied) so hostile content still gives a well-formed feed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from learning.catalog.podcast import PODCAST_GUID_NAMESPACE, podcast_guid

__all__ = ["PODCAST_GUID_NAMESPACE", "Channel", "Enclosure", "Item", "LiveItem", "Person", "Transcript", "podcast_guid"]


@dataclass(frozen=True, slots=True)
class Enclosure:
    url: str  # absolute, ends with the file's extension
    length: int  # exact size in bytes
    mime_type: str  # audio/x-m4a, audio/mpeg, video/mp4, …
    title: str = ""  # for podcast:alternateEnclosure
    bitrate: float | None = None  # bits per second, for podcast:alternateEnclosure


@dataclass(frozen=True, slots=True)
class Transcript:
    url: str
    mime_type: str  # text/vtt, application/x-subrip, application/json, text/html
    language: str = "fr"
    captions: bool = True  # rel="captions" for timed captions


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    role: str = "host"  # podcast:person role (host, guest, …)
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One episode."""

    guid: str  # never changes: not with the title, not when the file is replaced
    title: str
    description_html: str  # description and content:encoded
    summary: str  # plain text, for itunes:summary / Atom summary
    link: str
    published: datetime  # timezone-aware
    updated: datetime  # timezone-aware (Atom <updated>)
    enclosure: Enclosure  # audio first: the .m4a rendition when the replay is a video
    duration_seconds: int
    episode: int | None = None
    season: int | None = None
    episode_type: Literal["full", "trailer", "bonus"] = "full"
    alternate_enclosures: tuple[Enclosure, ...] = ()  # the video, when the enclosure is its audio
    transcript: Transcript | None = None
    chapters_url: str | None = None  # application/json+chapters
    image_url: str | None = None
    persons: tuple[Person, ...] = ()


@dataclass(frozen=True, slots=True)
class LiveItem:
    """A scheduled webinar whose replay is not ready yet: ``podcast:liveItem``."""

    guid: str
    title: str
    description_html: str
    link: str
    status: Literal["pending", "live", "ended"]
    start: datetime
    end: datetime
    content_link: str  # where to follow it (podcast:contentLink)
    # What an app plays meanwhile: the live media or room when known, else the series' stand-in (a short notice
    # that the session has no recording yet: feeds/<series>.yaml `live_enclosure`). Podcast Index's parser
    # drops a liveItem without one.
    enclosure: Enclosure | None = None
    persons: tuple[Person, ...] = ()


@dataclass(frozen=True, slots=True)
class Channel:
    title: str
    description: str  # plain text, ≤ 4000 bytes once rendered
    link: str  # the HTML page of the series or module
    feed_url: str  # this feed's own URL (atom:link rel="self")
    language: str
    image_url: str  # 1400–3000 px JPEG or PNG; the extension matches the type
    category: str  # Apple's list, exact case
    subcategory: str | None
    explicit: bool
    author: str
    owner_name: str
    owner_email: str
    podcast_type: Literal["episodic", "serial"]
    complete: bool
    guid: uuid.UUID  # podcast:guid
    locked: bool
    medium: str  # podcast, course, …
    copyright: str | None
    updated: datetime  # timezone-aware: the newest content change (lastBuildDate, Atom <updated>)
    items: tuple[Item, ...] = ()
    live_items: tuple[LiveItem, ...] = ()
    update_frequency: tuple[str, str] | None = None  # podcast:updateFrequency (RRULE, wording)
    private: bool = field(default=False)  # a learner's private feed: noindex (itunes:block yes)
    atom_url: str = ""  # the URL of its Atom variant: rel="self" in the Atom document (none when empty)
    page: int = 1  # which page of a paged feed this document is (RFC 5005), 1 being the subscription document
    pages: int = 1  # how many there are: 1 for a feed that fits in one document


def page_url(url: str, page: int) -> str:
    """The URL of page ``page`` of the feed at ``url``: the first page is the feed's own URL."""
    return url if page == 1 else f"{url}?page={page}"


def page_links(channel: Channel, url: str) -> list[tuple[str, str]]:
    """RFC 5005's links of a paged feed's page (rel, href): first, last, previous and next; none when the feed
    fits in one document. ``url`` is the feed's URL in the document's format (RSS or Atom)."""
    if channel.pages == 1:
        return []
    links = [("first", page_url(url, 1)), ("last", page_url(url, channel.pages))]
    if channel.page > 1:
        links.append(("previous", page_url(url, channel.page - 1)))
    if channel.page < channel.pages:
        links.append(("next", page_url(url, channel.page + 1)))
    return links
