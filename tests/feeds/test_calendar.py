"""Webinar sessions as events: the series calendar (/feeds/webinars/<série>.ics) and one session's
(/api/v1/webinars/<série>/sessions/<séance>.ics) read by icalendar, recurring-ical-events and vobject (an
independent parser); SEQUENCE raised when a session moves or is cancelled; a state that follows the clock, with
the room to join while it is upcoming or live."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import vobject
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import Account, login
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, truncate_all
from tests.web.conftest import make_admin

CALENDAR = f"/feeds/webinars/{SERIES}.ics"


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    found = make_settings(database_url, tmp_path_factory.mktemp("calendar") / "var", login_ip_limit=10_000)
    sync(found)
    return found


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings)) as found:
        yield found


@pytest.fixture
def admin(client: TestClient[Any], settings: Settings) -> Account:
    return login(client, make_admin(settings))


def _events(body: bytes) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def _new_session(client: TestClient[Any], admin: Account, start: datetime, **fields: Any) -> str:
    slug = f"essai-{uuid.uuid4().hex[:8]}"
    body = {"slug": slug, "title": "Une séance d’essai", "scheduled_at": start.isoformat(), "duration_minutes": 60}
    created = client.post(f"/api/v1/admin/webinars/{SERIES}/sessions", json=body | fields, headers=admin.headers)
    assert created.status_code == 201, created.text
    published = client.put(
        f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/publication", json={"state": "published"},
        headers=admin.headers,
    )  # fmt: skip
    assert published.status_code == 200, published.text
    return slug


def test_the_series_calendar_is_read_alike_by_three_parsers(client: TestClient[Any]) -> None:
    answer = client.get(CALENDAR)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    sessions = client.get(f"/api/v1/webinars/{SERIES}", params={"limit": 100}).json()["sessions"]["items"]
    events = _events(answer.content)
    assert len(events) == len(sessions) == 12
    calendar = icalendar.Calendar.from_ical(answer.content)
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    starts = sorted(event.decoded("DTSTART") for event in events.values())
    assert [start.astimezone(UTC) for start in starts] == sorted(
        datetime.fromisoformat(session["scheduled_at"]).astimezone(UTC) for session in sessions
    )
    assert {event["DTSTART"].params["TZID"] for event in events.values()} == {"Europe/Paris"}
    # recurring-ical-events finds them over 2019, as a calendar app would.
    in_2019 = recurring_ical_events.of(calendar).between(date(2019, 1, 1), date(2020, 1, 1))
    assert sorted(str(event["UID"]) for event in in_2019) == sorted(events)
    # vobject, an independent parser, reads the same events and times.
    parsed = vobject.readOne(answer.text)
    read = {component.uid.value: component.dtstart.value for component in parsed.vevent_list}
    assert set(read) == set(events)
    assert all(read[uid] == events[uid].decoded("DTSTART") for uid in read)
    first = events[min(events, key=lambda uid: events[uid].decoded("DTSTART"))]
    assert str(first["URL"]).startswith(f"http://testserver.local/webinaires/{SERIES}/")
    assert str(first["STATUS"]) == "CONFIRMED"


def test_the_calendar_answers_conditional_requests(client: TestClient[Any]) -> None:
    first = client.get(CALENDAR)
    again = client.get(CALENDAR, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/feeds/webinars/inconnue.ics").status_code == 404


def test_a_moved_or_cancelled_session_raises_its_sequence(client: TestClient[Any], admin: Account) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    slug = _new_session(client, admin, start, join_url="https://visio.example.org/salle-1")
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}"

    def event() -> icalendar.Event:
        found = _events(client.get(f"/api/v1/webinars/{SERIES}/sessions/{slug}.ics").content)
        assert len(found) == 1
        return next(iter(found.values()))

    first = event()
    assert int(first["SEQUENCE"]) == 0
    assert str(first["LOCATION"]) == "https://visio.example.org/salle-1"
    etag = client.get(CALENDAR).headers["etag"]
    # Its summary changes: not a change of time, room or state.
    assert client.patch(path, json={"summary": "Nouveau résumé"}, headers=admin.headers).status_code == 200
    assert int(event()["SEQUENCE"]) == 0
    moved = client.patch(path, json={"scheduled_at": (start + timedelta(hours=2)).isoformat()}, headers=admin.headers)
    assert moved.status_code == 200
    assert int(event()["SEQUENCE"]) == 1
    assert event().decoded("DTSTART").astimezone(UTC) == start + timedelta(hours=2)
    assert client.get(CALENDAR, headers={"If-None-Match": etag}).status_code == 200  # the calendar changed
    cancelled = client.patch(
        path, json={"status": "cancelled", "cancel_reason": "Intervenante souffrante"}, headers=admin.headers
    )
    assert cancelled.status_code == 200
    gone = event()
    assert int(gone["SEQUENCE"]) == 2
    assert str(gone["STATUS"]) == "CANCELLED"
    assert "Intervenante souffrante" in str(gone["DESCRIPTION"])
    assert str(gone["UID"]) == str(first["UID"])  # the same event, so calendars update it rather than add one
    page = client.get(f"/webinaires/{SERIES}/{slug}").text.replace("\u202f", " ").replace("\xa0", " ")
    assert "Cette séance est annulée : Intervenante souffrante" in page
    api = client.get(f"/api/v1/webinars/{SERIES}/sessions/{slug}").json()
    assert (api["status"], api["cancel_reason"], api["join_url"]) == ("cancelled", "Intervenante souffrante", None)


def test_a_session_state_follows_the_clock_and_offers_the_room_while_it_matters(
    client: TestClient[Any], admin: Account
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    room = "https://visio.example.org/salle-2"
    slug = _new_session(client, admin, now + timedelta(days=1), join_url=room)
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}"
    read = f"/api/v1/webinars/{SERIES}/sessions/{slug}"
    page = f"/webinaires/{SERIES}/{slug}"
    assert (client.get(read).json()["status"], client.get(read).json()["join_url"]) == ("upcoming", room)
    upcoming = client.get(page).text
    assert "Séance à venir" in upcoming
    assert f'href="/api/v1/webinars/{SERIES}/sessions/{slug}.ics"' in upcoming
    client.patch(path, json={"scheduled_at": (now - timedelta(minutes=10)).isoformat()}, headers=admin.headers)
    assert client.get(read).json()["status"] == "live"
    live = client.get(page).text
    assert "En direct" in live
    assert f'<a class="button" href="{page}/rejoindre">Rejoindre la séance</a>' in live
    live_ones = client.get(f"/api/v1/webinars/{SERIES}", params={"status": "live", "limit": 100}).json()
    assert [session["slug"] for session in live_ones["sessions"]["items"]] == [slug]
    client.patch(path, json={"scheduled_at": (now - timedelta(hours=2)).isoformat()}, headers=admin.headers)
    ended = client.get(read).json()
    assert (ended["status"], ended["join_url"]) == ("ended", None)  # nothing to join after it
    assert "sa rediffusion sera publiée sur cette page" in client.get(page).text.replace("\u202f", " ")
    # The shipped 2019 sessions have their replays.
    replays = client.get(f"/api/v1/webinars/{SERIES}", params={"status": "replay_available", "limit": 100}).json()
    assert replays["sessions"]["total"] == 12


def test_the_series_page_offers_its_calendar(client: TestClient[Any]) -> None:
    page = client.get(f"/webinaires/{SERIES}").text
    assert f'href="webcal://testserver.local/feeds/webinars/{SERIES}.ics"' in page
    assert f'href="/feeds/webinars/{SERIES}.ics" download' in page
