"""Render a ``Channel`` to RSS 2.0 (iTunes and Podcasting 2.0 namespaces) or Atom 1.0, with feedgen.

Every text goes through ``sanitize`` (control characters removed, Apple's limits applied), so hostile content still
gives a well-formed feed, and nothing depends on the clock: the same ``Channel`` always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import struct
import threading
import uuid
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator

from learning.feeds.model import Channel, Enclosure, Item, LiveItem, Person, Transcript, page_links, page_url
from learning.feeds.podcast_ext import (
    AtomEntryExtension,
    ItunesExtraEntryExtension,
    ItunesExtraExtension,
    PagingExtension,
    PodcastIndexEntryExtension,
    PodcastIndexExtension,
    cdata,
)
from learning.lib.typography import french_html, french_text

__all__ = ["build_feed", "fingerprint", "render_atom", "render_rss", "render_rss_gzip", "sanitize"]

TITLE_LIMIT = 255  # characters: Apple's limit for titles and other short values
TEXT_LIMIT_BYTES = 4000  # UTF-8 bytes: Apple's limit for descriptions and summaries
NAME_LIMIT = 128  # characters: podcast:person
ALTERNATE_TITLE_LIMIT = 32  # characters: podcast:alternateEnclosure title ("for UX", says the spec)
UNTITLED = "Sans titre"  # RSS and Atom need a title; a title made only of control characters has none left

# Characters XML 1.0 forbids (C0 controls but tab, LF and CR, including NUL; lone surrogates; U+FFFE, U+FFFF) or
# discourages (DEL and the C1 controls): lxml refuses the former, feed readers choke on the latter.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def sanitize(text: str, limit: int | None = None) -> str:
    """``text`` made safe for XML: the characters XML forbids or discourages removed (NUL and the other control
    characters, keeping tab, LF and CR), surrounding whitespace stripped, then cut to at most ``limit`` characters
    (code points, not bytes: the byte limits of descriptions are applied by the renderer on top of this)."""
    cleaned = _ILLEGAL.sub("", text).strip()
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[:limit].rstrip()
    return cleaned


def _cut_bytes(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut on a character boundary."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore").rstrip()


# The texts of a feed's items (typography, sanitising, cutting: about half of a 1,000-item render) are kept once
# made: after an edit, the feed is rendered again and only the texts that changed are made again. Each function
# is pure; the bounds keep the memory in proportion (about 2,000 descriptions of a few KiB).
TEXTS_KEPT = 4096
DESCRIPTIONS_KEPT = 2048


@lru_cache(maxsize=TEXTS_KEPT)
def _plain(text: str) -> str:
    """A plain-text description or summary: sanitised, at most 4000 bytes."""
    return _cut_bytes(sanitize(french_text(text)), TEXT_LIMIT_BYTES)


@lru_cache(maxsize=DESCRIPTIONS_KEPT)
def _html(text: str) -> str:
    """An HTML description for a CDATA section: sanitised, at most 4000 bytes once ``]]>`` is escaped; a tag cut
    in half at the end is dropped rather than left open."""
    html = sanitize(french_html(text)).replace("]]>", "]]&gt;")
    cut = _cut_bytes(html, TEXT_LIMIT_BYTES)
    if len(cut) < len(html) and cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")].rstrip()
    return cut


@lru_cache(maxsize=TEXTS_KEPT)
def _title(text: str) -> str:
    return _line(text) or UNTITLED


def _line(text: str) -> str:
    """A one-line text of the channel (title, author, copyright): French typography, sanitised, bounded."""
    return sanitize(french_text(text), TITLE_LIMIT)


def forget_texts() -> None:
    """Forget the texts and items made so far, as a restart does (benchmarks measure the first render with it)."""
    for kept in (_plain, _html, _title):
        kept.cache_clear()
    _RSS_ITEMS.clear()


class _Fragments:
    """Each item's ``<item>…</item>`` as the RSS document holds it, and that fragment deflated on its own, kept once
    made (bounded in bytes: the oldest out first; renders run in worker threads, hence the lock). An item is a
    frozen value: the same item (and channel's explicit flag) always makes the same bytes, so a feed rendered again
    after one session changed makes, and compresses, that session's item only."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._kept: dict[tuple[Item, bool], tuple[bytes, bytes]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def used_bytes(self) -> int:
        return self._bytes

    def get(self, key: tuple[Item, bool]) -> tuple[bytes, bytes] | None:
        return self._kept.get(key)  # one hash of the item: its fields, recursively, are what costs

    def put(self, key: tuple[Item, bool], fragment: bytes) -> tuple[bytes, bytes]:
        kept = (fragment, _deflate(fragment))
        with self._lock:
            if (replaced := self._kept.pop(key, None)) is not None:
                self._bytes -= _weight(replaced)
            self._kept[key] = kept
            self._bytes += _weight(kept)
            while self._bytes > self._max_bytes and self._kept:
                self._bytes -= _weight(self._kept.pop(next(iter(self._kept))))
        return kept

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._bytes = 0


def _weight(kept: tuple[bytes, bytes]) -> int:
    """What an entry holds: its fragment, its deflated copy, and about as much again in the item's own texts
    (the key keeps them alive)."""
    fragment, deflated = kept
    return 2 * len(fragment) + len(deflated)


def _deflate(data: bytes, *, last: bool = False) -> bytes:
    """``data`` as raw deflate blocks that stand alone: each piece starts a new compressor and ends byte-aligned
    (a full flush), so pieces compressed apart join into one valid stream; the ``last`` one ends it."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time (deterministic), OS unknown


ITEMS_KEPT_BYTES = 64 * 1024 * 1024  # a 1,000-item feed (5 MB of XML) weighs about 11 MB here
_RSS_ITEMS = _Fragments(ITEMS_KEPT_BYTES)
# In a serialised RSS document, outside CDATA sections (where any text may stand), "<item>" and "</item>" are
# only ever the tags: text and attribute values have their "<" escaped.
_ITEM_TAGS = re.compile(rb"<!\[CDATA\[.*?\]\]>|<item>|</item>", re.S)


def _optional(url: str | None) -> str | None:
    if url is None:
        return None
    return sanitize(url) or None


def _atom_id(guid: str) -> str:
    """Atom ids are IRIs: a bare UUID guid becomes its ``urn:uuid:`` form, anything else is kept."""
    try:
        return uuid.UUID(guid).urn
    except ValueError:
        return guid


def _person(person: Person) -> Person | None:
    name = sanitize(person.name, NAME_LIMIT)
    if not name:
        return None  # podcast:person needs a name
    return Person(
        name=name,
        role=sanitize(person.role, NAME_LIMIT),
        group=sanitize(person.group, NAME_LIMIT),
        href=_optional(person.href),
        img=_optional(person.img),
    )


def _persons(persons: tuple[Person, ...]) -> list[Person]:
    return [clean for clean in map(_person, persons) if clean is not None]


def _live_item(live: LiveItem) -> LiveItem:
    return replace(
        live,
        guid=sanitize(live.guid),
        title=_title(live.title),
        description_html=_html(live.description_html),
        link=sanitize(live.link),
        content_link=sanitize(live.content_link),
        enclosure=replace(live.enclosure, url=sanitize(live.enclosure.url)) if live.enclosure else None,
        persons=tuple(_persons(live.persons)),
    )


def _add_item(feed: Any, item: Item, explicit: bool) -> None:
    entry = feed.add_entry(order="append")  # feedgen prepends by default, which reverses the caller's order
    guid = sanitize(item.guid)
    entry.guid(guid, permalink=False)
    entry.title(_title(item.title))
    entry.link(href=sanitize(item.link), rel="alternate")
    html = _html(item.description_html)
    if html:
        # The same CDATA section for <description> and <content:encoded> (and Atom <content type="html">).
        entry.description(cdata(html))
        entry.content(cdata(html), type="html")
    summary = _plain(item.summary)
    if summary:
        entry.summary(summary)  # Atom <summary>; the RSS <description> stays the HTML one when there is one
        entry.podcast.itunes_summary(summary)
    entry.published(item.published)
    entry.updated(item.updated)
    entry.enclosure(
        sanitize(item.enclosure.url),
        str(max(item.enclosure.length, 0)),
        sanitize(item.enclosure.mime_type),
    )
    entry.atom_fix.links(entry.link())
    entry.atom_fix.id(_atom_id(guid))

    itunes = entry.podcast
    itunes.itunes_duration(max(item.duration_seconds, 0))
    if item.episode is not None and item.episode > 0:
        itunes.itunes_episode(item.episode)
    if item.season is not None and item.season > 0:
        itunes.itunes_season(item.season)
    itunes.itunes_episode_type(item.episode_type)
    # The model has no per-episode flag: an episode is as explicit as its channel.
    entry.itunes_extra.explicit(explicit)
    image = _optional(item.image_url)
    if image:
        entry.itunes_extra.image(image)

    podcast = entry.podcastindex
    if item.transcript is not None:
        podcast.transcript(
            Transcript(
                url=sanitize(item.transcript.url),
                mime_type=sanitize(item.transcript.mime_type),
                language=sanitize(item.transcript.language),
                captions=item.transcript.captions,
            )
        )
    chapters = _optional(item.chapters_url)
    if chapters:
        podcast.chapters(chapters)
    for person in _persons(item.persons):
        podcast.person(person)
    for alternate in item.alternate_enclosures:
        podcast.alternate_enclosure(
            Enclosure(
                url=sanitize(alternate.url),
                length=max(alternate.length, 0),
                mime_type=sanitize(alternate.mime_type),
                title=sanitize(alternate.title, ALTERNATE_TITLE_LIMIT),
                bitrate=alternate.bitrate,
            )
        )


def build_feed(channel: Channel) -> FeedGenerator:
    """The feedgen generator holding ``channel``, its items and live items, ready for ``rss_str``/``atom_str``."""
    feed = FeedGenerator()
    feed.load_extension("podcast", atom=False)  # feedgen's iTunes tags, for those it writes as Apple wants
    feed.register_extension("itunes_extra", ItunesExtraExtension, ItunesExtraEntryExtension, atom=False)
    feed.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False)
    feed.register_extension("atom_fix", BaseExtension, AtomEntryExtension, rss=False)
    feed.register_extension("paging", PagingExtension, BaseEntryExtension, atom=False)
    feed.paging.links(page_links(channel, sanitize(channel.feed_url)))  # RSS: atom:link; Atom: see render_atom

    title = _title(channel.title)
    link = sanitize(channel.link)
    image = sanitize(channel.image_url)
    feed.title(title)
    feed.id(f"urn:uuid:{channel.guid}")  # Atom's feed id: stable across host moves, like podcast:guid
    feed.description(_plain(channel.description) or title)
    # feedgen makes the last link() the channel <link>: the feed itself first, its web page last.
    feed.link(href=sanitize(page_url(channel.feed_url, channel.page)), rel="self", type="application/rss+xml")
    feed.link(href=link, rel="alternate")
    feed.language(sanitize(channel.language))
    feed.updated(channel.updated)  # lastBuildDate: when the content changed, never the render time
    feed.image(url=image, title=title, link=link)
    copyright_notice = _line(channel.copyright or "")
    if copyright_notice:
        feed.copyright(copyright_notice)

    author = _line(channel.author)
    owner_name = _line(channel.owner_name)
    owner_email = sanitize(channel.owner_email, TITLE_LIMIT)
    if author:
        feed.author(name=author)  # Atom <author>; no e-mail, so no RSS <managingEditor>
        feed.podcast.itunes_author(author)
    if owner_name and owner_email:  # feedgen raises when only one of them is set
        feed.podcast.itunes_owner(name=owner_name, email=owner_email)
    feed.podcast.itunes_type(channel.podcast_type)

    itunes = feed.itunes_extra
    itunes.image(image)
    itunes.category(sanitize(channel.category, TITLE_LIMIT), _optional(channel.subcategory))
    itunes.explicit(channel.explicit)
    itunes.complete(channel.complete)
    itunes.block(channel.private)

    podcast = feed.podcastindex
    podcast.guid(str(channel.guid))
    podcast.locked(channel.locked, owner_email)
    podcast.medium(sanitize(channel.medium, TITLE_LIMIT))
    if channel.update_frequency is not None:
        rrule, wording = channel.update_frequency
        podcast.update_frequency(sanitize(rrule, TITLE_LIMIT), sanitize(wording, TITLE_LIMIT), channel.complete)
    podcast.block(channel.private)
    for live in channel.live_items:
        podcast.add_live_item(_live_item(live))

    for item in channel.items:
        _add_item(feed, item, channel.explicit)
    return feed


def render_rss(channel: Channel) -> bytes:
    """RSS 2.0 in UTF-8, with the iTunes, content, Atom and Podcasting 2.0 namespaces: the bytes of
    ``build_feed(channel).rss_str()``, made from the channel without its items and each item's kept fragment
    (the items not kept yet are rendered together, once)."""
    head, items, tail = _rss_pieces(channel)
    return head + b"".join(raw for raw, _ in items) + tail


def render_rss_gzip(channel: Channel) -> tuple[bytes, bytes]:
    """``render_rss(channel)`` and its gzip copy, made in the same pass: the kept items are kept compressed too,
    so only the channel's head and tail, and the items not kept yet, are compressed now."""
    head, items, tail = _rss_pieces(channel)
    body = head + b"".join(raw for raw, _ in items) + tail
    deflated = _deflate(head) + b"".join(packed for _, packed in items) + _deflate(tail, last=True)
    trailer = struct.pack("<II", zlib.crc32(body), len(body) & 0xFFFFFFFF)
    return body, _GZIP_HEADER + deflated + trailer


def _rss_pieces(channel: Channel) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
    """The document before its items, each item (as it reads and deflated), and the document after them."""
    keys = [(item, channel.explicit) for item in channel.items]
    found = [_RSS_ITEMS.get(key) for key in keys]
    missing = [item for item, kept in zip(channel.items, found, strict=True) if kept is None]
    made = iter(_item_fragments(_rss(replace(channel, items=tuple(missing), live_items=()))) if missing else ())
    items = [
        kept if kept is not None else _RSS_ITEMS.put(key, next(made)) for key, kept in zip(keys, found, strict=True)
    ]
    shell = _rss(replace(channel, items=()))
    end = shell.rindex(b"</channel>")  # the items are the channel's last children (feedgen appends them)
    return shell[:end], items, shell[end:]


def _rss(channel: Channel) -> bytes:
    xml: bytes = build_feed(channel).rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return xml


def _item_fragments(document: bytes) -> list[bytes]:
    """The ``<item>…</item>`` of an RSS document, in order."""
    fragments: list[bytes] = []
    start: int | None = None
    for tag in _ITEM_TAGS.finditer(document):
        if tag.group() == b"<item>":
            start = tag.start()
        elif tag.group() == b"</item>" and start is not None:
            fragments.append(document[start : tag.end()])
            start = None
    return fragments


def render_atom(channel: Channel) -> bytes:
    """Atom 1.0 in UTF-8: the episodes with their enclosure as ``link rel="enclosure"``; no live items (they are an
    RSS extension) and no iTunes or Podcasting 2.0 tags."""
    feed = build_feed(channel)
    # The generator's rel="self" link is the RSS feed's URL, which would be a lie in the Atom document.
    feed.link(href=sanitize(channel.link), rel="alternate", type="text/html", replace=True)
    if atom_url := sanitize(channel.atom_url):
        feed.link(href=page_url(atom_url, channel.page), rel="self", type="application/atom+xml")
        for rel, href in page_links(channel, atom_url):
            feed.link(href=href, rel=rel, type="application/atom+xml")
    xml: bytes = feed.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    return xml


@cache
def fingerprint() -> str:
    """What this renderer makes of a sample channel that uses every feature: a deploy that changes the output
    for the same ``Channel`` changes it too, so that feed versions (ETag, Last-Modified) follow the bytes. Its item's
    texts carry French punctuation, so a change of typography shows too."""
    moment = datetime(2000, 1, 1, tzinfo=UTC)
    url = "https://example.invalid/"
    person = Person("P", role="guest")
    item = Item(
        guid=str(uuid.UUID(int=1)), title="T ?", description_html="<p>« D »</p>", summary="S : s", link=url,
        published=moment, updated=moment, enclosure=Enclosure(f"{url}a.m4a", 1, "audio/x-m4a"),
        duration_seconds=1, episode=1, season=1,
        alternate_enclosures=(Enclosure(f"{url}v.mp4", 2, "video/mp4", title="V", bitrate=8.0),),
        transcript=Transcript(f"{url}t.vtt", "text/vtt"), chapters_url=f"{url}c.json", image_url=f"{url}i.jpg",
        persons=(person,),
    )  # fmt: skip
    live = LiveItem(
        guid=str(uuid.UUID(int=2)), title="L", description_html="<p>L</p>", link=url, status="pending",
        start=moment, end=moment, content_link=url, persons=(person,),
    )  # fmt: skip
    channel = Channel(
        title="T", description="D", link=url, feed_url=f"{url}f.xml", language="fr", image_url=f"{url}i.jpg",
        category="Education", subcategory="Courses", explicit=False, author="A", owner_name="O",
        owner_email="o@example.invalid", podcast_type="serial", complete=True, guid=uuid.UUID(int=3), locked=True,
        medium="course", copyright="C", updated=moment, items=(item,), live_items=(live,), private=True,
        atom_url=f"{url}f.atom",
    )  # fmt: skip
    return hashlib.blake2b(render_rss(channel) + render_atom(channel), digest_size=8).hexdigest()
