"""Issue 21, honest framing: what learners and podcast apps see says what the shipped course is — a
reconstitution written from Le RAMEAU's published account, not the Le RAMEAU/ESSEC MOOC — and who owns its
feeds is set per installation (the sync warns about an address nobody reads)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import podcastparser

from learning.catalog.sync import placeholder_address
from learning.config import Settings
from tests.helpers.catalog import SERIES, sync

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}
MODULES = ["comprendre-la-co-construction-territoriale", "dix-ans-de-recherche", "les-acteurs-de-l-alliance",
           "passer-a-l-action"]  # fmt: skip


def test_the_shipped_content_syncs_without_a_warning(settings: Settings) -> None:
    assert sync(settings, fresh=True).warnings == []


def test_a_reserved_owner_address_is_warned_about_by_the_sync_command(
    settings: Settings, content: Path, tmp_path: Path
) -> None:
    feed = content / "feeds" / "passer-a-l-action.yaml"
    feed.write_text(feed.read_text() + 'owner: {name: "Équipe", email: "podcast@example.org"}\n')
    env = {
        **os.environ, "LEARNING_DATABASE_URL": settings.require_database_url(), "LEARNING_DATA_DIR": str(tmp_path),
        "LEARNING_CONTENT_DIR": str(content), "LEARNING_FEED_OWNER_EMAIL": "flux@exemple.test",
    }  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "learning.cli", "content", "sync"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("attention : ")]
    assert len(warnings) == 2, done.stderr
    assert "passer-a-l-action.yaml" in warnings[0]
    assert "podcast@example.org" in warnings[0]
    assert "LEARNING_FEED_OWNER_EMAIL" in warnings[1]
    assert "flux@exemple.test" in warnings[1]


def test_reserved_domains_are_told_from_real_ones() -> None:
    reserved = ["podcast@example.org", "a@EXAMPLE.com", "b@example.net", "c@feeds.example", "d@x.test",
                "e@y.invalid", "f@localhost", "g@sub.example.org."]  # fmt: skip
    assert all(placeholder_address(email) for email in reserved)
    real = ["podcast@lerameau.fr", "contact@example-asso.fr", "x@examples.org", "y@test.fr", "z@mytest.com"]
    assert not any(placeholder_address(email) for email in real)


def _feed(client: Any, path: str) -> ET.Element:
    answer = client.get(path)
    assert answer.status_code == 200
    return ET.fromstring(answer.content)


def test_feeds_credit_no_organisation_as_author_and_take_their_owner_from_the_installation(
    settings: Settings, make_client: Any
) -> None:
    sync(settings)
    paths = [f"/feeds/modules/{slug}.xml" for slug in MODULES] + [f"/feeds/webinars/{SERIES}.xml"]
    bare = make_client()
    for path in paths:
        channel = _feed(bare, path).find("channel")
        assert channel is not None
        parsed = podcastparser.parse(path, io.BytesIO(bare.get(path).content))
        assert "reconstitu" in parsed["description"].lower(), path
        author = channel.findtext("itunes:author", namespaces=NS) or ""
        assert author.startswith("Reconstitution pédagogique"), (path, author)
        assert "ESSEC" not in author
        assert "sans lien avec Le RAMEAU ni l’ESSEC" in (channel.findtext("copyright") or "")
        assert channel.find("itunes:owner", NS) is None  # no owner set here: none claimed
        assert channel.find("podcast:locked", NS).get("owner") is None  # type: ignore[union-attr]
    owned = make_client(feed_owner_name="Équipe pédagogique", feed_owner_email="podcasts@formation.fr")
    for path in paths:
        channel = _feed(owned, path).find("channel")
        assert channel is not None
        assert channel.findtext("itunes:owner/itunes:email", namespaces=NS) == "podcasts@formation.fr"
        assert channel.findtext("itunes:owner/itunes:name", namespaces=NS) == "Équipe pédagogique"
        assert channel.find("podcast:locked", NS).get("owner") == "podcasts@formation.fr"  # type: ignore[union-attr]
        assert feedparser.parse(owned.get(path).content).feed.publisher_detail.email == "podcasts@formation.fr"


def test_pages_and_the_api_say_what_the_course_is(settings: Settings, client: Any) -> None:
    sync(settings)
    home = client.get("/").text
    assert "Reconstitution pédagogique" in home
    assert "ni Le RAMEAU ni l’ESSEC n’en sont les auteurs" in home
    for slug in MODULES:
        module = client.get(f"/api/v1/modules/{slug}").json()
        assert module["notice"].startswith("Reconstitution pédagogique")
        page = client.get(f"/modules/{slug}").text
        assert 'class="notice"' in page
        assert "Objectifs" in page
        lesson = client.get(f"/api/v1/modules/{slug}/lessons/{module['lessons'][0]['slug']}").json()
        assert lesson["module"]["notice"] == module["notice"]
        assert 'class="notice"' in client.get(f"/modules/{slug}/lecons/{module['lessons'][0]['slug']}").text
    series = client.get(f"/api/v1/webinars/{SERIES}").json()
    assert series["notice"].startswith("Programme reconstitué")
    session = client.get(f"/api/v1/webinars/{SERIES}/sessions/{series['sessions']['items'][0]['slug']}").json()
    assert session["series"]["notice"] == series["notice"]
    for path in (f"/webinaires/{SERIES}", f"/webinaires/{SERIES}/{series['sessions']['items'][0]['slug']}"):
        page = client.get(path).text
        assert "Programme reconstitué" in page
        assert "replay" not in page.lower()


def test_a_module_states_objectives_audience_and_its_measured_duration(settings: Settings, client: Any) -> None:
    sync(settings)
    for slug in MODULES:
        module = client.get(f"/api/v1/modules/{slug}").json()
        assert 3 <= len(module["objectives"]) <= 5
        assert module["audience"]
        assert module["prerequisites"]
        assert module["duration_seconds"] == sum(lesson["duration_seconds"] for lesson in module["lessons"]) > 0
        assert "une heure" not in module["description_markdown"]


def test_no_2019_session_refers_to_course_content_published_after_it(settings: Settings, client: Any) -> None:
    """A 2019 session may not link to, or name, a module or lesson that this platform published later (session
    11 pointed to a module published in 2027)."""
    sync(settings)
    published: dict[str, tuple[str, Any]] = {}  # module or lesson path → (title, first publication)
    for module in client.get("/api/v1/modules?limit=100").json()["items"]:
        feed = feedparser.parse(client.get(f"/feeds/modules/{module['slug']}.xml").content)
        dates = sorted(entry.published_parsed for entry in feed.entries)
        published[f"/modules/{module['slug']}"] = (module["title"], dates[0])
        for entry in feed.entries:
            published[urlsplit(entry.link).path] = (entry.title, entry.published_parsed)
    series = client.get(f"/api/v1/webinars/{SERIES}?limit=100").json()
    assert series["sessions"]["total"] == 12
    for item in series["sessions"]["items"]:
        session = client.get(f"/api/v1/webinars/{SERIES}/sessions/{item['slug']}").json()
        held = time.strptime(session["scheduled_at"][:10], "%Y-%m-%d")
        text = session["body_html"] + session["summary"]
        for path, (title, date) in published.items():
            if date > held:
                assert f'href="{path}' not in text, (item["slug"], path)
                assert title not in text, (item["slug"], title)
