"""A media lesson lasts what its media lasts: measured at sync (the front matter's ``duration`` is a text
lesson's reading time), refused when declared otherwise, and the same in the API, the pages and the feeds.

Reproduces issue 19: lessons said 25 s for 20 s videos and 40 s for 30–36 s audios. The figures are read from
the shipped files (regenerated media change them).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import av
import pytest
from litestar.testing import TestClient

from learning.catalog.content import ContentError
from learning.config import Settings
from tests.helpers.accounts import Account
from tests.helpers.catalog import sync
from tests.helpers.database import REPOSITORY, sql
from tests.helpers.progress import played, send

MODULE = "dix-ans-de-recherche"
AUDIO_LESSON = "de-la-caravane-au-voyage-d-etudes"  # mooc-audio-02.m4a
VIDEO_LESSON = "les-premiers-terrains-d-experimentation"  # mooc-video-02.mp4
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"


def _probed(name: str) -> float:
    """The media's own duration, as FFmpeg reads it (independently of the app)."""
    with av.open(str(REPOSITORY / "media" / name)) as container:
        assert container.duration is not None
        return container.duration / 1_000_000


def _declare(lesson: Path, line: str) -> int:
    """Put ``line`` in the lesson's front matter, just after ``kind:``; the line number it lands on."""
    lines = lesson.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [x for x in lines if not x.startswith("duration:")]
    at = next(i for i, x in enumerate(lines) if x.startswith("kind:")) + 1
    lines.insert(at, line + "\n")
    lesson.write_text("".join(lines), encoding="utf-8")
    return at + 1


def test_sync_refuses_a_declared_duration_that_contradicts_the_media(settings: Settings, content: Path) -> None:
    lesson = next((content / "modules" / MODULE).glob("04-*.md"))  # mooc-video-02.mp4
    declared = round(_probed("mooc-video-02.mp4")) + 5
    line = _declare(lesson, f"duration: {declared}")
    with pytest.raises(ContentError) as raised:
        sync(settings, content)
    message = str(raised.value)
    assert f"{lesson}:{line}: " in message
    assert f"'duration' is {declared} s but mooc-video-02.mp4 lasts {_probed('mooc-video-02.mp4'):.1f} s" in message
    assert int(sql(settings.require_database_url(), "SELECT count(*) AS n FROM lesson")[0]["n"]) == 0


def test_sync_accepts_a_declared_duration_within_a_second_and_keeps_the_measured_one(
    settings: Settings, content: Path
) -> None:
    lesson = next((content / "modules" / MODULE).glob("04-*.md"))
    measured = round(_probed("mooc-video-02.mp4"))
    _declare(lesson, f"duration: {measured + 1}")
    sync(settings, content)
    row = sql(settings.require_database_url(), "SELECT duration_seconds FROM lesson WHERE slug = $1", VIDEO_LESSON)
    assert row[0]["duration_seconds"] == measured


def test_a_text_lesson_keeps_its_declared_reading_time(settings: Settings) -> None:
    sync(settings, fresh=True)
    rows = sql(
        settings.require_database_url(), "SELECT duration_seconds FROM lesson WHERE slug = $1", "chronologie-2006-2018"
    )
    assert rows[0]["duration_seconds"] == 300  # as its front matter says


def test_api_page_feed_and_xapi_give_the_probed_duration_of_a_media_lesson(
    settings: Settings, client: TestClient[Any], learner: Account
) -> None:
    sync(settings, fresh=True)
    probed = _probed("mooc-audio-02.m4a")
    api = client.get(f"/api/v1/modules/{MODULE}/lessons/{AUDIO_LESSON}").json()
    assert api["duration_seconds"] == round(probed)
    listed = next(x for x in client.get(f"/api/v1/modules/{MODULE}").json()["lessons"] if x["slug"] == AUDIO_LESSON)
    assert listed["duration_seconds"] == round(probed)
    page = client.get(f"/modules/{MODULE}").text
    link = f'<a href="/modules/{MODULE}/lecons/{AUDIO_LESSON}">'
    meta = re.search(re.escape(link) + r'.*?<span class="meta">([^<]*)</span>', page, re.S)
    assert meta is not None
    assert html.unescape(meta.group(1)) == f"Audio · {round(probed)}\u00a0s"  # a no-break space: French typography
    feed = ET.fromstring(client.get(f"/feeds/modules/{MODULE}.xml").content)
    item = next(i for i in feed.iter("item") if i.findtext("guid") == api["id"])
    assert item.findtext(f"{ITUNES}duration") == str(round(probed))
    assert client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers).status_code == 201
    send(client, learner, [played(api["id"], 0, 10)])
    statements = client.get("/api/v1/me/xapi/statements", headers=learner.headers).json()["statements"]
    about = [s for s in statements if s["object"]["id"].endswith(f"/lessons/{AUDIO_LESSON}")]
    lengths = {s["context"]["extensions"]["https://w3id.org/xapi/video/extensions/length"] for s in about}
    assert about
    assert lengths == {float(round(probed))}


def test_a_second_sync_reads_the_stored_durations_without_probing_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync(settings, fresh=True)

    def no_probe(path: Path) -> None:
        raise AssertionError(f"{path.name} probed again although its content did not change")

    monkeypatch.setattr("learning.media.library.probe", no_probe)
    assert sync(settings, fresh=True).changes == 0
    rows = sql(settings.require_database_url(), "SELECT duration_seconds FROM lesson WHERE slug = $1", VIDEO_LESSON)
    assert rows[0]["duration_seconds"] == round(_probed("mooc-video-02.mp4"))


def test_an_admin_cannot_set_the_duration_of_a_media_lesson(
    settings: Settings, client: TestClient[Any], admin: Account
) -> None:
    sync(settings, fresh=True)
    base = f"/api/v1/admin/modules/{MODULE}/lessons"
    measured = round(_probed("mooc-video-02.mp4"))
    refused = client.patch(f"{base}/{VIDEO_LESSON}", json={"duration_seconds": measured + 5}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/modules/{MODULE}/lessons/{VIDEO_LESSON}").json()["duration_seconds"] == measured
    text = client.patch(f"{base}/chronologie-2006-2018", json={"duration_seconds": 360}, headers=admin.headers)
    assert text.status_code == 200  # a text lesson's reading time is the admin's to say
