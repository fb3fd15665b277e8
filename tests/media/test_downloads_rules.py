"""The pure parts of download counting: user agents (bots, listening apps), the one-minute threshold,
the union of byte ranges and the rolling 24-hour window."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from learning.media.downloads import Hit, count_downloads, covered_bytes, listening_app, threshold_bytes

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("agent", "app"),
    [
        # the library through which Apple's apps play: the list does not know which app it is
        ("AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; fr_fr)", "AppleCoreMedia"),
        ("Podcasts/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", "Apple Podcasts"),
        ("Balados/1555.2.1 CFNetwork/1494.0.7 Darwin/23.4.0", "Apple Podcasts"),
        ("iTunes/12.8 (Macintosh; OS X 10.13.6) AppleWebKit/605.1.15", "iTunes"),
        ("AntennaPod/3.4.0", "AntennaPod"),
        ("Pocket Casts", "Pocket Casts"),
        ("gPodder/3.11.1 (+http://gpodder.org/) Linux", "gPodder"),
        ("Overcast/3.0 (+http://overcast.fm/; iOS podcast app)", "Overcast"),
        ("Castro 2022.10/1234 Like iTunes", "Castro"),
        ("PodcastAddict/v5 (+https://podcastaddict.com/; Android podcast app)", "Podcast Addict"),
        ("Spotify/8.6.66 Android/29 (SM-G973F)", "Spotify"),
        ("Deezer/7.0.10.7 (Android; 11; Mobile; fr) samsung SM-A515F", "Deezer"),
        ("PodcastRepublic/18.0 (Linux; U; Android 10;blueline/QQ2A.200501.001.B2)", "Podcast Republic"),
        ("VLC/3.0.16 LibVLC/3.0.16", "VLC media player"),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Web browser"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Mobile/15E148",
            "Web browser",
        ),
        ("stagefright/1.2 (Linux;Android 5.0)", "stagefright"),  # a playback library
        ("SecretPlayer/9.9", "Other"),
    ],
)
def test_listening_apps_are_recognised(agent: str, app: str) -> None:
    assert listening_app(agent) == app


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "   ",
        "-",
        "Mozilla/5.0",
        "curl/8.5.0",
        "Wget/1.21.4",
        "python-requests/2.32.3",
        "Go-http-client/1.1",
        "Java/17.0.2",
        "Lavf/60.16.100",  # ffmpeg: a library the list marks as a bot
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; like FeedFetcher-Google)",
        "Aggrivator (PodcastIndex.org)/v0.1.7",
        "Spotify/1.0",
        "atc/1.0 watchOS/7.1 model/Watch5,1 hwp/t8006 build/18R590 (6; dt:201)",
        "PlayerFM/1.0 Podcast Sync (0 subscribers; url=https://player.fm/series/series-2567872)",
        "Mozilla/5.0 (compatible; PodUptimeBot/1.0; +https://poduptime.com)",
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 HeadlessChrome/105.0.5173.0 Safari/537.36",
        "Mozilla/5.0 (compatible; special_archiver; Archive-It; http://archive-it.org/files/site-owners-special.html)",
    ],
)
def test_bots_are_recognised(agent: str) -> None:
    assert listening_app(agent) is None


def test_one_minute_of_audio_or_the_whole_file() -> None:
    assert threshold_bytes(4_800_000, 300.0) == 960_000
    assert threshold_bytes(200_000, 30.0) == 200_000  # shorter than a minute: the whole file
    assert threshold_bytes(200_000, 60.0) == 200_000
    assert threshold_bytes(1_000_000, None) == 1_000_000  # unknown duration: the whole file
    assert threshold_bytes(1_000_000, 0.0) == 1_000_000
    assert threshold_bytes(1_000, 3600.0) == 17  # rounded up: never less than a minute


def test_the_union_of_ranges_counts_each_byte_once() -> None:
    assert covered_bytes([], 100) == 0
    assert covered_bytes([(0, 9)], 100) == 10
    assert covered_bytes([(0, 9), (0, 9), (5, 14)], 100) == 15
    assert covered_bytes([(20, 29), (0, 9), (10, 19)], 100) == 30  # adjacent ranges join
    assert covered_bytes([(0, 9), (50, 59)], 100) == 20
    assert covered_bytes([(90, 500)], 100) == 10  # clipped to the file
    assert covered_bytes([(200, 300)], 100) == 0


def _hit(at: datetime, size: int = 1000, duration: float | None = 10.0) -> Hit:
    return Hit(uuid.uuid4(), size, duration, "192.0.2.1", "AntennaPod/3", "AntennaPod", at, ((0, size - 1),))


def test_the_window_is_anchored_at_its_first_request() -> None:
    hits = [_hit(T0), _hit(T0 + timedelta(hours=23)), _hit(T0 + timedelta(hours=24)), _hit(T0 + timedelta(hours=47))]
    requests = [(hit.at, 0, 999) for hit in hits]
    assert [start for _, start in count_downloads(hits, requests, [])] == [T0, T0 + timedelta(hours=24)]


def test_requests_of_an_earlier_window_do_not_feed_the_next() -> None:
    # A full listen at T0 (counted), then half the file at T0+23h and the other half at T0+25h: the first half
    # belongs to the window that already has its download, so the second half alone does not count.
    first, half_a, half_b = _hit(T0), _hit(T0 + timedelta(hours=23)), _hit(T0 + timedelta(hours=25))
    requests = [(T0, 0, 999), (half_a.at, 0, 499), (half_b.at, 500, 999)]
    assert count_downloads([first, half_a, half_b], requests, []) == [(first, T0)]


def test_partial_requests_of_the_last_24_hours_add_up() -> None:
    early, late = _hit(T0), _hit(T0 + timedelta(hours=20))
    requests = [(early.at, 0, 499), (late.at, 500, 999)]
    assert count_downloads([early, late], requests, []) == [(late, T0)]
    # ... but not with a request older than 24 hours
    late = _hit(T0 + timedelta(hours=24, seconds=1))
    assert count_downloads([early, late], [(early.at, 0, 499), (late.at, 500, 999)], []) == []


def test_an_existing_download_blocks_24_hours_around_its_window_start() -> None:
    hit = _hit(T0)
    assert count_downloads([hit], [(T0, 0, 999)], [T0 - timedelta(hours=23)]) == []
    assert count_downloads([hit], [(T0, 0, 999)], [T0 + timedelta(hours=2)]) == []  # arrived out of order
    assert count_downloads([hit], [(T0, 0, 999)], [T0 - timedelta(hours=24)]) == [(hit, T0)]
