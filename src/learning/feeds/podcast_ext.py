"""feedgen extensions for podcast feeds (RSS only).

- ``podcastindex``: the Podcasting 2.0 namespace (``podcast:guid``, ``locked``, ``block``, ``medium``,
  ``liveItem`` on the channel; ``transcript``, ``chapters``, ``person``, ``alternateEnclosure`` on items).
  feedgen 1.0.0 has none of it.
- ``itunes_extra``: the iTunes tags feedgen's own ``podcast`` extension refuses or spells differently from Apple:
  ``itunes:image`` whatever the URL ends with (feedgen drops or rejects anything but ``.jpg``/``.png``),
  ``itunes:explicit`` ``true``/``false`` (feedgen raises on them), ``itunes:complete``/``itunes:block`` ``Yes``
  (feedgen writes ``yes``/``no``) and ``itunes:category`` (feedgen looks categories up with an XPath built from the
  text, which breaks on a quote).
- ``atom_fix``: puts back the ``rel``/``type``/``length`` attributes feedgen 1.0.0 loses on Atom entry links (it
  shadows its loop variable: lkiesow/python-feedgen#135), without which enclosures are plain links; and gives
  entries an IRI ``id`` (feedgen uses the RSS guid for both).

The extensions write values as they are given: sanitising and length limits are the caller's job (``feeds.render``).
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree  # feedgen builds its trees with lxml

from learning.feeds.model import Enclosure, LiveItem, Person, Transcript
from learning.media.formats import CHAPTERS

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_LINK_TEXT = "Suivre le webinaire"


def cdata(html: str) -> Any:
    """``html`` as a CDATA section; a ``]]>`` inside (which would end the section) is written ``]]&gt;``."""
    return etree.CDATA(html.replace("]]>", "]]&gt;"))


def _element(parent: Any, tag: str, text: Any = None, /, **attributes: str | None) -> Any:
    """A child element; attributes that are None or empty are left out (positional-only ``text``, so that a
    ``text=`` attribute, as in ``itunes:category``, can be passed)."""
    element = etree.SubElement(parent, tag, {name: value for name, value in attributes.items() if value})
    if text is not None:
        element.text = text
    return element


def _podcast(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def _itunes(name: str) -> str:
    return f"{{{ITUNES_NS}}}{name}"


def _bitrate(value: float) -> str:
    """Bits per second as the spec's examples write them: ``128000``, ``160707.74``."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def _write_person(parent: Any, person: Person) -> None:
    _element(
        parent,
        _podcast("person"),
        person.name,
        role=person.role,
        group=person.group,
        img=person.img,
        href=person.href,
    )


def _live_item_element(live: LiveItem) -> Any:
    element = etree.Element(
        _podcast("liveItem"), {"status": live.status, "start": live.start.isoformat(), "end": live.end.isoformat()}
    )
    _element(element, "title", live.title)
    if live.description_html:
        _element(element, "description", cdata(live.description_html))
    if live.link:
        _element(element, "link", live.link)
    _element(element, "guid", live.guid, isPermaLink="false")
    if live.enclosure is not None:
        # The spec's fallback for apps that cannot play the stream; Podcast Index's parser drops a liveItem without
        # one. Until a session has a live stream, it is the series' stand-in notice (see LiveItem.enclosure).
        _element(element, "enclosure", url=live.enclosure.url, length=str(live.enclosure.length),
                 type=live.enclosure.mime_type)  # fmt: skip
    for person in live.persons:
        _write_person(element, person)
    # podcast:contentLink, which the spec requires: the webinar page, where the session is followed.
    _element(element, _podcast("contentLink"), CONTENT_LINK_TEXT, href=live.content_link)
    return element


class PodcastIndexExtension(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """Channel-level Podcasting 2.0 tags."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str] | None = None
        self._medium: str | None = None
        self._update_frequency: tuple[str, str, bool] | None = None
        self._block = False
        self._live_items: list[LiveItem] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def guid(self, value: str) -> None:
        """``podcast:guid``: see ``model.podcast_guid``."""
        self._guid = value

    def locked(self, value: bool, owner: str) -> None:
        """``podcast:locked``: whether other platforms may import the feed; ``owner`` is the owner's e-mail."""
        self._locked = (value, owner)

    def medium(self, value: str) -> None:
        self._medium = value

    def update_frequency(self, rrule: str, wording: str, complete: bool) -> None:
        """``podcast:updateFrequency``: how often episodes come (an RFC 5545 RRULE), and whether none will."""
        self._update_frequency = (rrule, wording, complete)

    def block(self, value: bool) -> None:
        """``podcast:block yes``: no platform may list the feed (a private feed); nothing otherwise."""
        self._block = value

    def add_live_item(self, live: LiveItem) -> None:
        self._live_items.append(live)

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        if self._guid:
            _element(channel, _podcast("guid"), self._guid)
        if self._locked is not None:
            value, owner = self._locked
            _element(channel, _podcast("locked"), "yes" if value else "no", owner=owner)
        if self._medium:
            _element(channel, _podcast("medium"), self._medium)
        if self._block:
            _element(channel, _podcast("block"), "yes")
        if self._update_frequency is not None:
            rrule, wording, complete = self._update_frequency
            _element(channel, _podcast("updateFrequency"), wording, rrule=rrule, complete="true" if complete else None)
        # Children of <channel>, not <item>s, inserted first: readers that do not know podcast:liveItem (feedparser)
        # take its <link> and <guid> for the channel's unless the channel's own come after them. The channel's
        # <link> (written by feedgen before this runs) then follows them, and its id is the atom:id written last
        # (feedparser keeps the last one it reads).
        for position, live in enumerate(self._live_items):
            channel.insert(position, _live_item_element(live))
        if self._guid:  # the channel's identity for readers that look for one (as in the Atom feed)
            _element(channel, f"{{{ATOM_NS}}}id", f"urn:uuid:{self._guid}")
        return rss


class PodcastIndexEntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """Item-level Podcasting 2.0 tags."""

    def __init__(self) -> None:
        self._transcripts: list[Transcript] = []
        self._chapters: str | None = None
        self._persons: list[Person] = []
        self._alternate_enclosures: list[Enclosure] = []

    def transcript(self, transcript: Transcript) -> None:
        self._transcripts.append(transcript)

    def chapters(self, url: str) -> None:
        self._chapters = url

    def person(self, person: Person) -> None:
        self._persons.append(person)

    def alternate_enclosure(self, enclosure: Enclosure) -> None:
        self._alternate_enclosures.append(enclosure)

    def extend_rss(self, item: Any) -> Any:
        for transcript in self._transcripts:
            _element(
                item,
                _podcast("transcript"),
                url=transcript.url,
                type=transcript.mime_type,
                language=transcript.language,
                rel="captions" if transcript.captions else None,
            )
        if self._chapters:
            _element(item, _podcast("chapters"), url=self._chapters, type=CHAPTERS.mime_type)
        for person in self._persons:
            _write_person(item, person)
        for enclosure in self._alternate_enclosures:
            alternate = _element(
                item,
                _podcast("alternateEnclosure"),
                type=enclosure.mime_type,
                length=str(enclosure.length),
                bitrate=_bitrate(enclosure.bitrate) if enclosure.bitrate is not None else None,
                title=enclosure.title,
            )
            _element(alternate, _podcast("source"), uri=enclosure.url)
        return item


class ItunesExtraExtension(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """Channel-level iTunes tags feedgen's ``podcast`` extension cannot write as Apple wants them."""

    def __init__(self) -> None:
        self._image: str | None = None
        self._explicit: bool | None = None
        self._categories: list[tuple[str, str | None]] = []
        self._complete = False
        self._block = False

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS}

    def image(self, url: str) -> None:
        self._image = url

    def explicit(self, value: bool) -> None:
        self._explicit = value

    def category(self, text: str, subcategory: str | None = None) -> None:
        self._categories.append((text, subcategory))

    def complete(self, value: bool) -> None:
        """``itunes:complete Yes`` when no episode will ever be added; nothing otherwise."""
        self._complete = value

    def block(self, value: bool) -> None:
        """``itunes:block Yes`` keeps the feed out of Apple's directory; nothing otherwise."""
        self._block = value

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        if self._image:
            _element(channel, _itunes("image"), href=self._image)
        for text, subcategory in self._categories:
            category = _element(channel, _itunes("category"), text=text)
            if subcategory:
                _element(category, _itunes("category"), text=subcategory)
        if self._explicit is not None:
            _element(channel, _itunes("explicit"), "true" if self._explicit else "false")
        if self._complete:
            _element(channel, _itunes("complete"), "Yes")
        if self._block:
            _element(channel, _itunes("block"), "Yes")
        return rss


class ItunesExtraEntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """Item-level ``itunes:image`` (any URL) and ``itunes:explicit`` ``true``/``false``."""

    def __init__(self) -> None:
        self._image: str | None = None
        self._explicit: bool | None = None

    def image(self, url: str) -> None:
        self._image = url

    def explicit(self, value: bool) -> None:
        self._explicit = value

    def extend_rss(self, item: Any) -> Any:
        if self._image:
            _element(item, _itunes("image"), href=self._image)
        if self._explicit is not None:
            _element(item, _itunes("explicit"), "true" if self._explicit else "false")
        return item


class AtomEntryExtension(BaseEntryExtension):  # type: ignore[misc]  # feedgen is untyped
    """Atom entries as RFC 4287 wants them, where feedgen's ``id``/``guid`` and ``link`` setters fall short:
    an ``id`` that is an IRI although the RSS guid is a bare UUID, and links with their attributes (give it the
    entry's ``link()`` list once the links are set)."""

    _LINK_ATTRIBUTES = ("rel", "type", "hreflang", "title", "length")

    def __init__(self) -> None:
        self._id: str | None = None
        self._links: list[dict[str, str]] = []

    def id(self, value: str) -> None:
        self._id = value

    def links(self, links: list[dict[str, str]]) -> None:
        self._links = list(links)

    def extend_atom(self, entry: Any) -> Any:
        if self._id:
            entry.find("id").text = self._id
        # feedgen writes one <link href> per link, in order, and nothing else.
        for element, link in zip(entry.findall("link"), self._links, strict=False):
            if element.get("href") == link.get("href"):
                for name in self._LINK_ATTRIBUTES:
                    if link.get(name):
                        element.set(name, link[name])
        return entry


class PagingExtension(BaseExtension):  # type: ignore[misc]  # feedgen is untyped
    """RFC 5005's links of a paged RSS feed, as ``atom:link`` children of ``<channel>`` (feedgen writes only the
    ``self`` one in RSS): first, last, previous, next."""

    def __init__(self) -> None:
        self._links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def links(self, links: list[tuple[str, str]]) -> None:
        self._links = links

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        for rel, href in self._links:
            _element(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel, type="application/rss+xml")
        return rss
