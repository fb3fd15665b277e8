"""A real player completes every shipped media lesson: FFmpeg (through PyAV) plays the lesson's URL over
HTTP from start to end, the learner's client reports exactly what was decoded, and the lesson is done.

Reproduces issue 19: the durations came from the front matter (25 s for 20 s videos, 40 s for 30–36 s
audios), so 0.9 × the declared duration was more than a whole play and 7 of the 9 lessons never completed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import av
import httpx
import pytest

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import sync
from tests.helpers.database import sql
from tests.helpers.live import live_server
from tests.helpers.progress import played


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    sync(settings)
    # One module is scheduled for 2027: open it now, so its lessons are played too.
    sql(settings.require_database_url(), "UPDATE module SET publication = 'published', publish_at = NULL")
    with live_server(create_app(settings)) as url:
        yield url


def _media_lessons(base: str) -> list[tuple[str, dict[str, Any]]]:
    """(module slug, lesson summary) of every media lesson the public API lists."""
    found = []
    for module in httpx.get(f"{base}/api/v1/modules").json()["items"]:
        detail = httpx.get(f"{base}/api/v1/modules/{module['slug']}").json()
        found += [(module["slug"], lesson) for lesson in detail["lessons"] if lesson["media"] is not None]
    return found


def _play(url: str, kind: str) -> tuple[float, float]:
    """Decode the lesson's stream (its pictures for a video, its sound for an audio) from the URL, as a
    player does; the span of media time the decoded frames cover."""
    start, end = float("inf"), float("-inf")
    with av.open(url, options={"seekable": "1"}) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if isinstance(frame, av.AudioFrame):
                length = frame.samples / frame.sample_rate
            else:
                length = float(1 / stream.average_rate) if stream.average_rate else 0.0
            start, end = min(start, frame.time), max(end, frame.time + length)
    assert end > start, f"nothing decoded from {url}"
    return max(start, 0.0), end


def test_a_real_player_completes_every_shipped_media_lesson(base_url: str, settings: Settings) -> None:
    httpx.post(f"{base_url}/api/v1/auth/register", json={"email": "lecteur@example.org", "password": PASSWORD})
    login = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": "lecteur@example.org", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    lessons = _media_lessons(base_url)
    assert len(lessons) == 9
    not_completed = []
    for module, lesson in lessons:
        httpx.post(f"{base_url}/api/v1/me/enrollments", json={"module": module}, headers=headers)
        url = lesson["media"]["url"].replace(settings.base_url, base_url)
        start, end = _play(url, lesson["kind"])
        answer = httpx.post(
            f"{base_url}/api/v1/me/progress/events",
            json={"events": [played(lesson["id"], start, end)]},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        state = httpx.get(f"{base_url}/api/v1/me/progress/lessons/{lesson['id']}", headers=headers).json()
        if not state["completed"]:
            lasting = state["duration_seconds"]
            not_completed.append(f"{module}/{lesson['slug']}: played {end - start:.2f} s of {lasting} s")
    assert not_completed == []
