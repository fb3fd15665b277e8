"""feeds.render: RSS 2.0 (iTunes, Podcasting 2.0) and Atom 1.0 checked with real parsers (podcastparser, feedparser)
and with XPath on the raw XML, since the parsers are lenient."""

from __future__ import annotations

import gzip
import io
import uuid
import xml.etree.ElementTree as ET
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import podcastparser
import pytest
from lxml import etree

from learning.feeds import render as render_module
from learning.feeds.model import Channel, Enclosure, Item, LiveItem, Person, Transcript, podcast_guid
from learning.feeds.render import build_feed, render_atom, render_rss, render_rss_gzip, sanitize
from learning.feeds.services import _digest as feed_version
from learning.lib.typography import NBSP, NNBSP, french_html, french_text

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "podcast": "https://podcastindex.org/namespace/1.0",
}
ATOM = {"a": "http://www.w3.org/2005/Atom"}
FEED_URL = "https://learning.example/feeds/python-basics/podcast.xml"
ATOM_URL = "https://learning.example/feeds/python-basics/podcast.atom"
UPDATED = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
COVER = "https://cdn.learning.example/covers/python-basics?size=1400"  # no .jpg/.png: feedgen would drop it

HOSTILE = [
    pytest.param("Tom & Jerry <b>\"quoted\" 'single'</b> &amp; </channel>", id="markup"),
    pytest.param("Café 👩🏽‍💻 🇫🇷 emoji", id="emoji"),
    pytest.param("مرحبا بالعالم \u202eעברית\u202c", id="right-to-left"),
    pytest.param("nul\x00 bell\x07 esc\x1b del\x7f nel\x85 nonchar\ufffe lone\ud800 end", id="control-characters"),
    pytest.param("<p>ends ]]> the CDATA ]]></p>", id="cdata-terminator"),
    pytest.param("é😀<&>" * 2000, id="10-kB"),
]


def make_item(index: int = 1, **changes: Any) -> Item:
    published = UPDATED - timedelta(days=index)
    item = Item(
        guid=str(uuid.UUID(int=index)),
        title=f"Leçon {index}\u00a0: les listes",  # French typography: the renderer keeps it as it is
        description_html=f"<p>Les <em>listes</em>, leçon {index}.</p>",
        summary=f"Les listes, leçon {index}.",
        link=f"https://learning.example/lessons/{index}",
        published=published,
        updated=published + timedelta(hours=1),
        enclosure=Enclosure(f"https://cdn.learning.example/media/{index}.m4a", 1_234_567 + index, "audio/x-m4a"),
        duration_seconds=3725,
        episode=index,
        season=2,
        episode_type="full",
        alternate_enclosures=(
            Enclosure(f"https://cdn.learning.example/media/{index}.mp4", 98_765_432, "video/mp4", "Vidéo", 681483.55),
        ),
        transcript=Transcript(f"https://cdn.learning.example/media/{index}.vtt", "text/vtt"),
        chapters_url=f"https://cdn.learning.example/media/{index}.chapters.json",
        image_url=f"https://cdn.learning.example/lessons/{index}/art",
        persons=(
            Person("Ada Lovelace", href="https://learning.example/people/ada", img="https://cdn.learning.example/ada"),
            Person("Alan Turing", role="guest"),
        ),
    )
    return replace(item, **changes)


def make_live_item(**changes: Any) -> LiveItem:
    start = datetime(2026, 3, 10, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))
    live = LiveItem(
        guid="0b9c9a4e-8d0a-4c1f-9f51-3f4f3f0e1a11",
        title="Webinaire\u00a0: questions & réponses",
        description_html="<p>Posez vos <strong>questions</strong>.</p>",
        link="https://learning.example/webinars/42",
        status="pending",
        start=start,
        end=start + timedelta(hours=1, minutes=30),
        content_link="https://learning.example/webinars/42/live",
        persons=(Person("Grace Hopper"),),
    )
    return replace(live, **changes)


def make_channel(**changes: Any) -> Channel:
    channel = Channel(
        title="Python, les bases",
        description="Un cours pour débuter en Python & en programmation.",
        link="https://learning.example/modules/python-basics",
        feed_url=FEED_URL,
        atom_url=ATOM_URL,
        language="fr",
        image_url=COVER,
        category="Education",
        subcategory="Courses",
        explicit=False,
        author="École Exemple",
        owner_name="Équipe pédagogique",
        owner_email="podcast@learning.example",
        podcast_type="serial",
        complete=False,
        guid=podcast_guid(FEED_URL),
        locked=True,
        medium="course",
        copyright="© 2026 École Exemple",
        updated=UPDATED,
        items=(make_item(1), make_item(2)),
        live_items=(make_live_item(),),
    )
    return replace(channel, **changes)


def rss_tree(channel: Channel) -> Any:
    return etree.fromstring(render_rss(channel))


def text_of(root: Any, path: str) -> str:
    values = root.xpath(path, namespaces=NS)
    assert len(values) == 1, f"{path}: {values!r}"
    value = values[0]
    return str(value if isinstance(value, str) else value.text)


# --- sanitize ---


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("a\x00b\x01c\x1fd", None, "abcd"),
        ("keep\ttab\nnewline\rreturn", None, "keep\ttab\nnewline\rreturn"),
        ("del\x7f c1\x85\x9f nonchars\ufffe\uffff surrogate\ud800", None, "del c1 nonchars surrogate"),
        ("  \n padded \t ", None, "padded"),
        ("abcdef", 3, "abc"),
        ("ab   cdef", 4, "ab"),
        ("😀😀😀", 2, "😀😀"),
        ("\x00\x00", 10, ""),
    ],
)
def test_sanitize_removes_illegal_characters_strips_and_cuts(text: str, limit: int | None, expected: str) -> None:
    assert sanitize(text, limit) == expected


# --- RSS channel ---


def test_rss_declares_utf8_and_exact_namespaces() -> None:
    xml = render_rss(make_channel())
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(xml)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    assert {prefix: root.nsmap.get(prefix) for prefix in NS} == NS


def test_rss_channel_has_required_tags() -> None:
    channel = make_channel()
    root = rss_tree(channel)
    assert text_of(root, "/rss/channel/title") == channel.title
    assert text_of(root, "/rss/channel/description") == channel.description
    assert text_of(root, "/rss/channel/language") == "fr"
    assert text_of(root, "/rss/channel/copyright") == channel.copyright
    assert text_of(root, "/rss/channel/atom:link[@rel='self']/@href") == FEED_URL
    assert text_of(root, "/rss/channel/itunes:image/@href") == COVER
    assert text_of(root, "/rss/channel/itunes:category/@text") == "Education"
    assert text_of(root, "/rss/channel/itunes:category/itunes:category/@text") == "Courses"
    assert text_of(root, "/rss/channel/itunes:explicit") == "false"
    assert text_of(root, "/rss/channel/itunes:author") == channel.author
    assert text_of(root, "/rss/channel/itunes:owner/itunes:name") == channel.owner_name
    assert text_of(root, "/rss/channel/itunes:owner/itunes:email") == channel.owner_email
    assert text_of(root, "/rss/channel/itunes:type") == "serial"
    assert text_of(root, "/rss/channel/podcast:guid") == str(podcast_guid(FEED_URL))
    assert text_of(root, "/rss/channel/podcast:locked") == "yes"
    assert text_of(root, "/rss/channel/podcast:locked/@owner") == channel.owner_email
    assert text_of(root, "/rss/channel/podcast:medium") == "course"
    assert root.xpath("/rss/channel/itunes:complete | /rss/channel/itunes:block", namespaces=NS) == []


def test_rss_channel_link_is_the_web_page_not_the_feed_url() -> None:
    root = rss_tree(make_channel())
    assert root.xpath("/rss/channel/link/text()") == ["https://learning.example/modules/python-basics"]


@pytest.mark.parametrize(
    "url",
    ["https://cdn.learning.example/cover?size=1400", "https://cdn.learning.example/cover.webp", COVER + ".jpg"],
)
def test_itunes_image_written_whatever_the_url_ends_with(url: str) -> None:
    root = rss_tree(make_channel(image_url=url, items=(make_item(1, image_url=url),)))
    assert text_of(root, "/rss/channel/itunes:image/@href") == url
    assert text_of(root, "/rss/channel/item/itunes:image/@href") == url


@pytest.mark.parametrize(("explicit", "literal"), [(True, "true"), (False, "false")])
def test_itunes_explicit_is_literal_true_or_false(explicit: bool, literal: str) -> None:
    root = rss_tree(make_channel(explicit=explicit))
    assert text_of(root, "/rss/channel/itunes:explicit") == literal
    assert root.xpath("/rss/channel/item/itunes:explicit/text()", namespaces=NS) == [literal, literal]


@pytest.mark.parametrize(("complete", "expected"), [(True, ["Yes"]), (False, [])])
def test_itunes_complete_yes_only_when_complete(complete: bool, expected: list[str]) -> None:
    root = rss_tree(make_channel(complete=complete))
    assert root.xpath("/rss/channel/itunes:complete/text()", namespaces=NS) == expected


@pytest.mark.parametrize(("private", "expected"), [(True, ["Yes"]), (False, [])])
def test_itunes_block_yes_only_when_private(private: bool, expected: list[str]) -> None:
    root = rss_tree(make_channel(private=private))
    assert root.xpath("/rss/channel/itunes:block/text()", namespaces=NS) == expected


@pytest.mark.parametrize(("locked", "literal"), [(True, "yes"), (False, "no")])
def test_podcast_locked_yes_or_no_with_owner(locked: bool, literal: str) -> None:
    root = rss_tree(make_channel(locked=locked))
    assert text_of(root, "/rss/channel/podcast:locked") == literal
    assert text_of(root, "/rss/channel/podcast:locked/@owner") == "podcast@learning.example"


def test_podcast_guid_matches_namespace_spec_example() -> None:
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == uuid.UUID("917393e3-1b1e-5cef-ace4-edaa54e1f810")
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == podcast_guid("mp3s.nashownotes.com/pc20rss.xml")
    root = rss_tree(make_channel(guid=podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")))
    assert text_of(root, "/rss/channel/podcast:guid") == "917393e3-1b1e-5cef-ace4-edaa54e1f810"


# --- RSS items ---


def test_rss_items_keep_given_order_and_required_tags() -> None:
    items = (make_item(3), make_item(1), make_item(2))
    root = rss_tree(make_channel(items=items))
    elements = root.xpath("/rss/channel/item")
    assert [element.findtext("guid") for element in elements] == [item.guid for item in items]
    element, item = elements[0], items[0]
    assert text_of(element, "title") == item.title
    assert text_of(element, "link") == item.link
    assert text_of(element, "guid/@isPermaLink") == "false"
    assert text_of(element, "description") == item.description_html
    assert text_of(element, "content:encoded") == item.description_html
    assert parsedate_to_datetime(text_of(element, "pubDate")) == item.published
    assert text_of(element, "enclosure/@url") == item.enclosure.url
    assert text_of(element, "enclosure/@length") == str(item.enclosure.length)
    assert text_of(element, "enclosure/@type") == "audio/x-m4a"
    assert text_of(element, "itunes:duration") == "3725"
    assert text_of(element, "itunes:episode") == "3"
    assert text_of(element, "itunes:season") == "2"
    assert text_of(element, "itunes:episodeType") == "full"
    assert text_of(element, "itunes:summary") == item.summary
    assert text_of(element, "itunes:image/@href") == item.image_url
    assert text_of(element, "itunes:explicit") == "false"


def test_rss_item_html_is_in_cdata() -> None:
    xml = render_rss(make_channel(items=(make_item(1),)))
    html = make_item(1).description_html
    assert f"<description><![CDATA[{html}]]></description>".encode() in xml
    assert f"<content:encoded><![CDATA[{html}]]></content:encoded>".encode() in xml


def test_rss_pubdate_is_rfc2822_in_the_given_timezone() -> None:
    published = datetime(2026, 1, 15, 18, 5, 9, tzinfo=ZoneInfo("Europe/Paris"))
    root = rss_tree(make_channel(items=(make_item(1, published=published),)))
    assert text_of(root, "/rss/channel/item/pubDate") == "Thu, 15 Jan 2026 18:05:09 +0100"


@pytest.mark.parametrize("number", [None, 0, -1])
def test_episode_and_season_omitted_unless_positive(number: int | None) -> None:
    root = rss_tree(make_channel(items=(make_item(1, episode=number, season=number),)))
    assert root.xpath("//item/itunes:episode | //item/itunes:season", namespaces=NS) == []


@pytest.mark.parametrize("episode_type", ["full", "trailer", "bonus"])
def test_episode_type_written(episode_type: str) -> None:
    root = rss_tree(make_channel(items=(make_item(1, episode_type=episode_type),)))
    assert text_of(root, "//item/itunes:episodeType") == episode_type


def test_rss_item_podcast_tags_follow_the_model() -> None:
    item = make_item(1)
    element = rss_tree(make_channel(items=(item,))).xpath("/rss/channel/item")[0]

    transcript = element.xpath("podcast:transcript", namespaces=NS)
    assert [dict(t.attrib) for t in transcript] == [
        {"url": "https://cdn.learning.example/media/1.vtt", "type": "text/vtt", "language": "fr", "rel": "captions"}
    ]
    chapters = element.xpath("podcast:chapters", namespaces=NS)
    assert [dict(c.attrib) for c in chapters] == [
        {"url": "https://cdn.learning.example/media/1.chapters.json", "type": "application/json+chapters"}
    ]
    persons = element.xpath("podcast:person", namespaces=NS)
    assert [(p.text, dict(p.attrib)) for p in persons] == [
        (
            "Ada Lovelace",
            {
                "role": "host",
                "group": "cast",
                "img": "https://cdn.learning.example/ada",
                "href": "https://learning.example/people/ada",
            },
        ),
        ("Alan Turing", {"role": "guest", "group": "cast"}),
    ]
    (alternate,) = element.xpath("podcast:alternateEnclosure", namespaces=NS)
    assert dict(alternate.attrib) == {
        "type": "video/mp4",
        "length": "98765432",
        "bitrate": "681483.55",
        "title": "Vidéo",
    }
    assert [dict(s.attrib) for s in alternate] == [{"uri": "https://cdn.learning.example/media/1.mp4"}]
    assert alternate[0].tag == f"{{{NS['podcast']}}}source"


def test_transcript_without_captions_has_no_rel() -> None:
    transcript = Transcript("https://cdn.learning.example/t.html", "text/html", language="en", captions=False)
    root = rss_tree(make_channel(items=(make_item(1, transcript=transcript),)))
    (element,) = root.xpath("//item/podcast:transcript", namespaces=NS)
    assert dict(element.attrib) == {"url": transcript.url, "type": "text/html", "language": "en"}


def test_item_without_optional_values_has_no_optional_tags() -> None:
    item = make_item(
        1, alternate_enclosures=(), transcript=None, chapters_url=None, image_url=None, persons=(), episode=None
    )
    root = rss_tree(make_channel(items=(item,)))
    (element,) = root.xpath("/rss/channel/item")
    assert element.xpath("podcast:* | itunes:image | itunes:episode", namespaces=NS) == []
    assert text_of(element, "enclosure/@url") == item.enclosure.url


# --- live items ---


def test_live_item_is_a_channel_child_not_an_item() -> None:
    live = make_live_item(status="live")
    root = rss_tree(make_channel(live_items=(live,)))
    (element,) = root.xpath("/rss/channel/podcast:liveItem", namespaces=NS)
    assert len(root.xpath("/rss/channel/item")) == 2
    assert root.xpath("//item/guid/text()") == [make_item(1).guid, make_item(2).guid]
    assert element.get("status") == "live"
    assert datetime.fromisoformat(element.get("start")) == live.start
    assert datetime.fromisoformat(element.get("end")) == live.end
    assert element.get("start") == "2026-03-10T18:00:00+01:00"
    assert text_of(element, "title") == live.title
    assert text_of(element, "description") == live.description_html
    assert text_of(element, "link") == live.link
    assert text_of(element, "guid") == live.guid
    assert text_of(element, "guid/@isPermaLink") == "false"
    assert text_of(element, "podcast:person") == "Grace Hopper"
    assert text_of(element, "podcast:contentLink/@href") == live.content_link
    assert text_of(element, "podcast:contentLink") == "Suivre le webinaire"
    assert element.xpath("enclosure") == []


@pytest.mark.parametrize("status", ["pending", "live", "ended"])
def test_live_item_status_written(status: str) -> None:
    root = rss_tree(make_channel(live_items=(make_live_item(status=status),)))
    assert text_of(root, "/rss/channel/podcast:liveItem/@status") == status


# --- Atom ---


def test_atom_parses_with_entries_and_enclosure_links() -> None:
    channel = make_channel()
    xml = render_atom(channel)
    parsed = feedparser.parse(xml)
    assert parsed.version == "atom10"
    assert not parsed.bozo
    assert [entry.id for entry in parsed.entries] == [f"urn:uuid:{item.guid}" for item in channel.items]
    assert [entry.enclosures for entry in parsed.entries] == [
        [{"href": item.enclosure.url, "length": str(item.enclosure.length), "type": "audio/x-m4a"}]
        for item in channel.items
    ]
    assert parsed.entries[0].link == channel.items[0].link

    root = etree.fromstring(xml)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    (enclosure,) = root.xpath("a:entry[1]/a:link[@rel='enclosure']", namespaces=ATOM)
    assert dict(enclosure.attrib) == {
        "href": channel.items[0].enclosure.url,
        "rel": "enclosure",
        "type": "audio/x-m4a",
        "length": str(channel.items[0].enclosure.length),
    }
    assert root.xpath("a:updated/text()", namespaces=ATOM) == [UPDATED.isoformat()]


def test_atom_omits_live_items_and_podcast_tags() -> None:
    xml = render_atom(make_channel(live_items=(make_live_item(),)))
    root = etree.fromstring(xml)
    assert len(root.xpath("a:entry", namespaces=ATOM)) == 2
    assert b"liveItem" not in xml
    assert b"Webinaire" not in xml
    assert NS["podcast"].encode() not in xml
    assert NS["itunes"].encode() not in xml
    # rel="self" is this Atom document's own URL, not the RSS feed's.
    assert root.xpath("a:link[@rel='self']/@href", namespaces=ATOM) == [ATOM_URL]


def test_atom_entry_id_kept_when_guid_is_not_a_uuid() -> None:
    parsed = feedparser.parse(render_atom(make_channel(items=(make_item(1, guid="tag:learning.example,2026:1"),))))
    assert parsed.entries[0].id == "tag:learning.example,2026:1"


# --- determinism ---


def test_render_is_deterministic_and_dated_by_the_channel() -> None:
    channel = make_channel()
    first_rss, first_atom = render_rss(channel), render_atom(channel)
    assert render_rss(channel) == first_rss
    assert render_atom(channel) == first_atom
    root = etree.fromstring(first_rss)
    assert text_of(root, "/rss/channel/lastBuildDate") == format_datetime(channel.updated)
    atom = etree.fromstring(first_atom)
    assert atom.xpath("a:entry/a:updated/text()", namespaces=ATOM) == [i.updated.isoformat() for i in channel.items]


def test_build_feed_returns_the_populated_generator() -> None:
    feed = build_feed(make_channel())
    assert feed.title() == "Python, les bases"
    assert len(feed.entry()) == 2
    assert feed.rss_str(encoding="UTF-8", xml_declaration=True) == render_rss(make_channel())


# --- French typography ---


def test_feed_texts_get_french_typography() -> None:
    item = make_item(
        1, title="Leçon 1 : « les listes » ?", summary="Qu'est-ce qu'une liste ?",
        description_html='<p>Voir <a href="https://x.example/a?b=c">ici</a> ! <code>a : b</code></p>',
    )  # fmt: skip
    live = make_live_item(title="En direct : questions !")
    channel = make_channel(title="Python ; les bases", description="Un cours : « pas à pas »", items=(item,),
                           live_items=(live,))  # fmt: skip
    rss, atom = rss_tree(channel), etree.fromstring(render_atom(channel))

    title = f"Leçon 1{NBSP}: «{NNBSP}les listes{NNBSP}»{NNBSP}?"
    assert text_of(rss, "/rss/channel/title") == f"Python{NNBSP}; les bases"
    assert text_of(rss, "/rss/channel/description") == f"Un cours{NBSP}: «{NNBSP}pas à pas{NNBSP}»"
    assert text_of(rss, "//item/title") == title
    assert text_of(rss, "//item/itunes:summary") == f"Qu’est-ce qu’une liste{NNBSP}?"
    html = f'<p>Voir <a href="https://x.example/a?b=c">ici</a>{NNBSP}! <code>a : b</code></p>'
    assert text_of(rss, "//item/description") == html
    assert text_of(rss, "//item/content:encoded") == html
    assert text_of(rss, "/rss/channel/podcast:liveItem/title") == f"En direct{NBSP}: questions{NNBSP}!"
    assert atom.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title") == title
    assert render_rss(channel) == render_rss(replace(channel, items=(replace(item, title=title),), live_items=(live,)))


# --- hostile content ---


def _well_formed(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_gives_well_formed_feeds(text: str) -> None:
    person = Person(text, role=text, group=text, href="https://learning.example/p")
    item = make_item(1, title=text, description_html=text, summary=text, persons=(person,))
    live = make_live_item(title=text, description_html=text, persons=(person,))
    channel = make_channel(
        title=text, description=text, author=text, owner_name=text, copyright=text, items=(item,), live_items=(live,)
    )
    rss, atom = render_rss(channel), render_atom(channel)

    root = _well_formed(rss)
    _well_formed(atom)
    assert not feedparser.parse(rss).bozo
    assert not feedparser.parse(atom).bozo
    parsed = podcastparser.parse(FEED_URL, io.BytesIO(rss))
    assert parsed["episodes"][0]["guid"] == item.guid

    expected_title = sanitize(french_text(text), 255)  # typographed (quotes become « »), then sanitised
    assert root.findtext("channel/title") == expected_title
    assert root.findtext("channel/item/title") == expected_title
    assert parsed["title"] == " ".join(expected_title.split())  # podcastparser squashes whitespace
    for forbidden in "\x00\x07\x1b\x7f\x85\ufffe\ud800":
        assert forbidden.encode("utf-8", "surrogatepass") not in rss


@pytest.mark.parametrize("unit", ["é", "😀", "a"])
def test_long_values_are_cut_to_their_limits(unit: str) -> None:
    long = unit * 10_000
    person = Person(long)
    item = make_item(1, title=long, description_html=long, summary=long, persons=(person,))
    channel = make_channel(title=long, description=long, items=(item,), live_items=(make_live_item(title=long),))
    root = etree.fromstring(render_rss(channel))

    assert text_of(root, "/rss/channel/title") == unit * 255
    assert text_of(root, "/rss/channel/item/title") == unit * 255
    assert text_of(root, "/rss/channel/podcast:liveItem/title") == unit * 255
    assert text_of(root, "/rss/channel/item/podcast:person") == unit * 128
    for path in ("/rss/channel/description", "//item/description", "//item/content:encoded", "//item/itunes:summary"):
        value = text_of(root, path)
        assert value == unit * (4000 // len(unit.encode())), path  # as many whole characters as 4000 bytes hold


def test_html_cut_drops_a_half_written_tag() -> None:
    html = "<p>" + "x" * 3980 + '<a href="https://learning.example/a-long-link">lien</a></p>'
    root = rss_tree(make_channel(items=(make_item(1, description_html=html),)))
    value = text_of(root, "//item/description")
    assert value == "<p>" + "x" * 3980
    assert len(value.encode()) <= 4000


def test_cdata_terminator_in_html_is_escaped() -> None:
    item = make_item(1, description_html="<p>a ]]> b</p>")
    rss = render_rss(make_channel(items=(item,)))
    assert text_of(etree.fromstring(rss), "//item/description") == "<p>a ]]&gt; b</p>"
    episode = podcastparser.parse(FEED_URL, io.BytesIO(rss))["episodes"][0]
    assert episode["description_html"] == "<p>a ]]&gt; b</p>"


def test_title_made_only_of_control_characters_gets_a_placeholder() -> None:
    root = rss_tree(make_channel(title="\x00\x01", items=(make_item(1, title=" \x1b "),)))
    assert text_of(root, "/rss/channel/title") == "Sans titre"
    assert text_of(root, "//item/title") == "Sans titre"


# --- parsers and scale ---


def test_podcastparser_reads_channel_and_episodes() -> None:
    channel = make_channel(explicit=True)
    parsed = podcastparser.parse(FEED_URL, io.BytesIO(render_rss(channel)))
    assert parsed["title"] == channel.title
    assert parsed["link"] == channel.link
    assert parsed["cover_url"] == COVER
    assert parsed["explicit"] is True
    assert parsed["type"] == "serial"
    assert parsed["itunes_categories"] == [["Education", "Courses"]]
    assert parsed["itunes_owner"] == {"name": channel.owner_name, "email": channel.owner_email}
    # podcastparser sorts a serial podcast's episodes oldest first.
    assert [episode["guid"] for episode in parsed["episodes"]] == [item.guid for item in reversed(channel.items)]
    episode, item = parsed["episodes"][-1], channel.items[0]
    assert episode["title"] == " ".join(item.title.split())  # podcastparser squashes whitespace, no-break too
    assert episode["total_time"] == 3725
    assert episode["published"] == int(item.published.timestamp())
    assert episode["enclosures"] == [
        {"url": item.enclosure.url, "file_size": item.enclosure.length, "mime_type": "audio/x-m4a"}
    ]
    assert (episode["number"], episode["season"], episode["type"]) == (1, 2, "full")
    assert episode["episode_art_url"] == item.image_url
    assert episode["explicit"] is True


def test_feedparser_reads_rss_and_podcast_item_tags() -> None:
    channel = make_channel()
    parsed = feedparser.parse(render_rss(channel))
    assert parsed.version == "rss20"
    assert not parsed.bozo
    assert parsed.feed.title == channel.title
    assert parsed.feed.podcast_guid == str(channel.guid)
    entry = parsed.entries[0]
    assert entry.id == channel.items[0].guid
    assert entry.podcast_transcript["url"] == "https://cdn.learning.example/media/1.vtt"
    assert entry.podcast_chapters["type"] == "application/json+chapters"
    assert entry.enclosures[0]["href"] == channel.items[0].enclosure.url


def test_thousand_items_all_parsed() -> None:
    items = tuple(make_item(index) for index in range(1, 1001))
    rss = render_rss(make_channel(items=items, podcast_type="episodic"))
    guids = [item.guid for item in items]

    assert etree.fromstring(rss).xpath("/rss/channel/item/guid/text()") == guids
    episodes = podcastparser.parse(FEED_URL, io.BytesIO(rss))["episodes"]
    assert [episode["guid"] for episode in episodes] == guids  # episodic: podcastparser sorts newest first, as given
    entries = feedparser.parse(rss).entries
    assert [entry.id for entry in entries] == guids
    assert len(feedparser.parse(render_atom(make_channel(items=items))).entries) == 1000


def test_a_feed_rendered_again_makes_only_the_texts_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = french_html

    def counted(text: str) -> str:
        if tag in text:  # this test's texts (the channel's live item may have been made by an earlier test)
            made.append(text)
        return real(text)

    monkeypatch.setattr("learning.feeds.render.french_html", counted)
    tag = uuid.uuid4().hex  # texts no earlier render made
    items = tuple(make_item(i, description_html=f"<p>Séance {i} : {tag} ?</p>") for i in range(1, 4))
    channel = make_channel(items=items)
    first = render_rss(channel)
    assert len(made) == 3  # one description per item
    assert render_rss(channel) == first
    assert len(made) == 3  # rendered again after an edit elsewhere: nothing made twice
    edited = replace(items[1], description_html=f"<p>Séance 2 : {tag}, revue !</p>")
    again = render_rss(replace(channel, items=(items[0], edited, items[2])))
    assert made[3:] == [edited.description_html]  # only the edited text
    assert f"revue{NNBSP}!" in again.decode()


def test_a_feed_rendered_again_renders_only_the_items_that_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    rendered: list[str] = []
    real = render_module._add_item

    def counted(feed: Any, item: Item, explicit: bool) -> None:
        rendered.append(item.guid)
        real(feed, item, explicit)

    monkeypatch.setattr(render_module, "_add_item", counted)
    tag = uuid.uuid4().hex  # items no earlier render made
    items = tuple(make_item(i, guid=f"{tag}-{i}") for i in range(1, 6))
    channel = make_channel(items=items)
    first = render_rss(channel)
    assert sorted(rendered) == sorted(item.guid for item in items)
    rendered.clear()
    edited = replace(items[2], title="Séance revue")
    again = render_rss(replace(channel, items=(*items[:2], edited, *items[3:]), description="Autre description"))
    assert rendered == [edited.guid]  # the channel changed too: its items did not, they are not rendered again
    assert "Séance revue" in again.decode()
    assert first != again


def test_a_feed_made_from_kept_items_is_the_whole_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """The document assembled from the channel and kept item fragments is byte for byte feedgen's, with texts
    that look like the item tags inside CDATA and a live item."""
    tag = uuid.uuid4().hex
    tricky = "<p>Balises dans le texte : </item><item> et <![CDATA[ » ]]></p>"
    items = tuple(make_item(i, guid=f"{tag}-{i}", description_html=tricky if i == 2 else f"<p>{i}</p>")
                  for i in range(1, 5))  # fmt: skip
    channel = make_channel(items=items)
    render_rss(replace(channel, items=items[1:3]))  # some items kept, the others not yet
    expected = build_feed(channel).rss_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    assert render_rss(channel) == expected
    assert [entry.id for entry in feedparser.parse(expected).entries] == [item.guid for item in items]


def test_the_gzip_copy_made_from_kept_items_is_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gzip copy is assembled from items compressed once each: any gzip reader gets the document back."""
    compressed: list[int] = []
    real = render_module._deflate

    def counted(data: bytes, *, last: bool = False) -> bytes:
        compressed.append(len(data))
        return real(data, last=last)

    monkeypatch.setattr(render_module, "_deflate", counted)
    tag = uuid.uuid4().hex
    items = tuple(make_item(i, guid=f"{tag}-{i}") for i in range(1, 6))
    channel = make_channel(items=items)
    body, packed = render_rss_gzip(channel)
    assert gzip.decompress(packed) == body == render_rss(channel)
    assert zlib.decompress(packed, wbits=31) == body  # one gzip member: readers that stop after the first get all
    assert len(packed) < len(body) / 2
    compressed.clear()
    edited = replace(items[0], title="Séance revue")
    body, packed = render_rss_gzip(replace(channel, items=(edited, *items[1:])))
    assert gzip.decompress(packed) == body
    assert len(compressed) == 3  # the channel's head and tail, and the edited item: not the four others


def test_a_feeds_version_follows_every_value_of_its_items() -> None:
    """The version (the ETag's value) changes with any value of any item, even one only the Atom document shows
    (``updated``), and only then; items' parts are kept, so the version of a large feed costs little."""
    items = tuple(make_item(i) for i in range(1, 4))
    channel = make_channel(items=items)
    version = feed_version(channel, "renderer")
    assert feed_version(replace(channel, items=tuple(make_item(i) for i in range(1, 4))), "renderer") == version
    later = replace(items[1], updated=items[1].updated + timedelta(seconds=1))
    assert feed_version(replace(channel, items=(items[0], later, items[2])), "renderer") != version
    assert feed_version(replace(channel, items=(items[0], items[2], items[1])), "renderer") != version  # order
    assert feed_version(replace(channel, title="Autre titre"), "renderer") != version
    assert feed_version(channel, "another renderer") != version


def test_the_kept_items_stay_within_their_bound_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many feeds and items pass through, the kept fragments weigh at most their bound; a feed whose
    items were let go renders the same bytes (they are made again)."""
    bound = 64 * 1024
    kept = render_module._Fragments(bound)
    monkeypatch.setattr(render_module, "_RSS_ITEMS", kept)
    tag = uuid.uuid4().hex
    items = tuple(make_item(i, guid=f"{tag}-{i}", description_html=f"<p>{'Texte long. ' * 300}{i}</p>")
                  for i in range(1, 41))  # fmt: skip
    channel = make_channel(items=items)
    first = render_rss(channel)
    assert 0 < kept.used_bytes <= bound
    assert len(first) > bound  # the feed itself is larger than what is kept
    assert render_rss(channel) == first == build_feed(channel).rss_str(pretty=False, encoding="UTF-8",
                                                                       xml_declaration=True)  # fmt: skip
    assert kept.used_bytes <= bound
