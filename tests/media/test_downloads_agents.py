"""User agents through the vendored OPAWG list (``learning/media/data/opawg``): the files are upstream's,
every example of the list is classified as its own entry, and the apps and bots that matter here are
named by it. The user agents below are the list's own examples where it has some."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from typing import Any

import pytest

from learning.media.downloads.agents import Agent, _searchable, classify, listening_app

DATA = resources.files("learning.media").joinpath("data", "opawg")
KINDS = {"bots.json": "bot", "apps.json": "app", "libraries.json": "library", "browsers.json": "browser"}


def _entries(file: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(DATA.joinpath(file).read_text(encoding="utf-8"))["entries"]
    return entries


def test_the_vendored_files_are_upstreams_unchanged() -> None:
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    blobs = dict(re.findall(r"^\| (\S+) \| \S+ \| ([0-9a-f]{40}) \|$", readme, re.MULTILINE))
    assert sorted(blobs) == sorted([*KINDS, "LICENSE"])
    for name, blob in blobs.items():
        content = DATA.joinpath(name).read_bytes()
        assert hashlib.sha1(b"blob %d\x00" % len(content) + content).hexdigest() == blob, name  # noqa: S324 — git's id


def test_every_example_of_the_list_is_classified_as_its_own_entry() -> None:
    checked = 0
    for file, kind in KINDS.items():
        for entry in _entries(file):
            # As OP3 does: a library the list marks as a bot (curl-like tools, server-side clients) is one.
            expected = Agent("bot" if entry.get("category") == "bot" else kind, entry["name"])
            for example in entry.get("examples", []):
                assert classify(example) == expected, example
                checked += 1
    assert checked > 1000


@pytest.mark.parametrize(
    ("agent", "app"),
    [
        ("de.danoeh.antennapod/1.7.3b (Linux;Android 8.0.0) ExoPlayerLib/2.9.3", "AntennaPod"),
        ("AntennaPod/3.4.0", "AntennaPod"),
        ("Podcasts/1410.53 CFNetwork/1111 Darwin/19.0.0 (x86_64)", "Apple Podcasts"),
        ("Balados/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", "Apple Podcasts"),  # the French Canadian name
        ("Pocket%20Casts/7.96.0.4 CFNetwork/3826.600.41 Darwin/24.6.0", "Pocket Casts"),
        ("Shifty Jelly Pocket Casts, iOS v4.2", "Pocket Casts"),
        ("gPodder/3.10.21 (+http://gpodder.org/) Linux", "gPodder"),
        ("Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "Overcast"),
        ("PodcastAddict/v5 ( https://podcastaddict.com/; Android podcast app)", "Podcast Addict"),
        ("Podcast Addict - Dalvik/2.1.0 (Linux; U; Android 9; SM-G960F Build/PPR1.180610.011)", "Podcast Addict"),
        ("Castro 2020.14/1287", "Castro"),
        ("VLC/3.0.8 LibVLC/3.0.8", "VLC media player"),
        ("AppleCoreMedia/1.0.0.15G77 (iPhone; U; CPU OS 11_4_1 like Mac OS X; en_us)", "AppleCoreMedia"),
        ("yourApplicationName/2.21.9 (Linux;Android 11) ExoPlayerLib/2.14.0", "ExoPlayer (Android)"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:69.0) Gecko/20100101 Firefox/69.0", "Web browser"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148",
            "Web browser",
        ),
    ],
)
def test_listening_apps_are_named_by_the_list(agent: str, app: str) -> None:
    assert listening_app(agent) == app


@pytest.mark.parametrize(
    ("agent", "entry"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"),
        (
            "Feedfetcher-Google; (+http://www.google.com/feedfetcher.html; 1 subscribers; feed-id=4653447469100830145)",
            "Googlebot",
        ),
        ("Mozilla/5.0 (compatible; Bingbot/2.0; +http://www.bing.com/bingbot.htm)", "Microsoft Bingbot"),
        ("curl/8.5.0", "curl"),
        ("PycURL/7.43.0 libcurl/7.47.0 GnuTLS/3.4.10 zlib/1.2.8 libidn/1.32 librtmp/2.3", "curl"),
        ("Wget/1.21.4", "Wget"),
        ("python-requests/2.32.3", "python-requests"),
        ("Overcast/1.0 Podcast Sync (1 subscribers; feed-id=1234567; +http://overcast.fm/)", "Overcast feed parser"),
        ("Podcastindex.org/v0.3.3 (Aggrivate)", "Podcastindex.org"),
        # libraries the list marks as bots
        ("Go-http-client/2.0", "Go Http Client"),
        ("Python-urllib/3.9", "urllib (python)"),
        ("okhttp/3.11.0", "okhttp"),
        ("Lavf/60.16.100", "ffmpeg"),
    ],
)
def test_bots_are_named_by_the_list(agent: str, entry: str) -> None:
    assert classify(agent) == Agent("bot", entry)
    assert listening_app(agent) is None


@pytest.mark.parametrize("agent", ["MediaCrawler/1.0", "Mozilla/5.0 (compatible; SomeBot/2.1)", "spider-x/3"])
def test_an_unknown_agent_calling_itself_a_bot_is_one(agent: str) -> None:
    assert classify(agent) == Agent("bot")


def test_an_unknown_agent_is_another_listener() -> None:
    assert classify("SecretPlayer/9.9") == Agent("unknown")
    assert listening_app("SecretPlayer/9.9") == "Other"


def test_newlines_are_removed_before_matching() -> None:
    assert listening_app("\nAntennaPod/3.4.0") == "AntennaPod"  # "^AntennaPod/" matches once it is removed


def test_classifications_are_cached_and_the_cache_is_bounded() -> None:
    assert classify.cache_info().maxsize == 4096
    classify("CachedPlayer/1.0")
    hits = classify.cache_info().hits
    classify("CachedPlayer/1.0")
    assert classify.cache_info().hits == hits + 1


def test_a_leading_wildcard_is_dropped_without_changing_any_answer() -> None:
    assert _searchable(".+[Bb]rave") == ".[Bb]rave"
    assert _searchable(".*MJ12bot") == "MJ12bot"
    assert _searchable(".*?X|Y") == ".*?X|Y"
    long_prefix = "x" * 400
    for entry in _entries("bots.json") + _entries("apps.json") + _entries("browsers.json"):
        original, rewritten = re.compile(entry["pattern"]), re.compile(_searchable(entry["pattern"]))
        for example in entry.get("examples", []):
            for agent in (example, long_prefix + example, example[1:]):
                assert bool(original.search(agent)) == bool(rewritten.search(agent)), (entry["name"], agent)
