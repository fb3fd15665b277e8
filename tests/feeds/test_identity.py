"""Two installations built from the same content files publish the same feeds: a redeploy, a restore or a
new host must not make podcast apps see every episode as new (issue 19)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import icalendar
import pytest
import yaml
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.db.migrate import upgrade
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import REPOSITORY, empty_database, make_settings, on_database, sql

# What may differ between two installations: when each one built its feeds (lastBuildDate, Atom's feed-level
# <updated>), nothing else.
BUILD_DATE = re.compile(rb"<lastBuildDate>[^<]*</lastBuildDate>|(?<=</title>)<updated>[^<]*</updated>")


def _feed_paths() -> list[str]:
    paths = []
    for path in sorted((REPOSITORY / "feeds").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        folder = "webinars" if data["kind"] == "webinar_series" else "modules"
        paths += [f"/feeds/{folder}/{data['source']}.xml", f"/feeds/{folder}/{data['source']}.atom"]
    return paths


@pytest.fixture
def installations(server_url: str, tmp_path: Path) -> Iterator[list[Settings]]:
    """Two fresh installations (empty database, own data folder) synced from the same files."""
    with empty_database(server_url, "learning_ident") as one, empty_database(server_url, "learning_ident") as two:
        settings = []
        for name in (one, two):
            url = on_database(server_url, name)
            upgrade(url)
            settings.append(make_settings(url, tmp_path / name / "var"))
            sync(settings[-1], fresh=True)
        yield settings


def _everything(settings: Settings) -> dict[str, Any]:
    published: dict[str, Any] = {}
    with TestClient(app=create_app(settings)) as client:
        for path in _feed_paths():
            response = client.get(path)
            published[path] = (response.status_code, BUILD_DATE.sub(b"", response.content, count=1))
        for module in client.get("/api/v1/modules").json()["items"]:
            detail = client.get(f"/api/v1/modules/{module['slug']}").json()
            published[f"module {module['slug']}"] = _ids(detail)
            for lesson in detail["lessons"]:
                answer = client.get(f"/api/v1/modules/{module['slug']}/lessons/{lesson['slug']}")
                published[f"lesson {module['slug']}/{lesson['slug']}"] = _ids(answer.json())
        for series in client.get("/api/v1/webinars").json()["items"]:
            published[f"series {series['slug']}"] = _ids(client.get(f"/api/v1/webinars/{series['slug']}").json())
            # Calendars key events on their UID: the same in every installation (with their times and sequence).
            calendar = icalendar.Calendar.from_ical(client.get(f"/feeds/webinars/{series['slug']}.ics").content)
            published[f"calendar {series['slug']}"] = [
                (str(event["UID"]), event.decoded("DTSTART"), int(event["SEQUENCE"]))
                for event in calendar.walk("VEVENT")
            ]
    return published


def _ids(value: Any, where: str = "") -> list[tuple[str, Any]]:
    """Every id of an API answer (keys ``id`` and ``…_id``), with where it is."""
    if isinstance(value, dict):
        found = [(f"{where}.{key}", item) for key, item in value.items() if key == "id" or key.endswith("_id")]
        return found + [pair for key, item in value.items() for pair in _ids(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value) for pair in _ids(item, f"{where}[{index}]")]
    return []


def test_two_installations_from_the_same_files_publish_the_same_feeds_and_ids(
    installations: list[Settings],
) -> None:
    first, second = (_everything(settings) for settings in installations)
    feeds = [path for path in first if path.startswith("/feeds/")]
    assert sum(first[path][0] == 200 for path in feeds) >= 10  # the series and the published modules, RSS and Atom
    for path in feeds:
        assert first[path][0] == second[path][0], path
        if first[path][0] != 200:
            continue
        one, two = feedparser.parse(first[path][1]), feedparser.parse(second[path][1])
        assert one.entries, path
        # What podcast apps key episodes on, named for a readable failure, then the whole document.
        assert [e.id for e in one.entries] == [e.id for e in two.entries], path
        assert [[x.href for x in e.enclosures] for e in one.entries] == [
            [x.href for x in e.enclosures] for e in two.entries
        ], path
        assert [e.get("published") for e in one.entries] == [e.get("published") for e in two.entries], path
        assert [dict.get(e, "updated") for e in one.entries] == [dict.get(e, "updated") for e in two.entries], path
        assert first[path][1] == second[path][1], path
    api = [key for key in first if not key.startswith("/feeds/")]
    assert len(api) > 20  # the modules, their lessons, the series
    assert all(first[key] for key in api)
    for key in api:
        assert first[key] == second[key], key


def test_a_sync_keeps_the_ids_an_installation_already_published(settings: Settings) -> None:
    # An installation made before ids were derived has random ones: its subscribers hold those guids.
    sync(settings, fresh=True)
    url = settings.require_database_url()
    published = uuid.uuid4()
    sql(url, "UPDATE webinar_session SET id = $1 WHERE slug = '2019-01-lancement-du-cycle'", published)
    assert sync(settings, fresh=True).changes == 0
    with TestClient(app=create_app(settings)) as client:
        entries = feedparser.parse(client.get(f"/feeds/webinars/{SERIES}.xml").content).entries
    assert str(published) in [entry.id for entry in entries]
