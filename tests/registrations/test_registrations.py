"""Registering for a session to come, against a real SMTP server (aiosmtpd): the confirmation carries the event;
reminders go a day and an hour before under a controllable clock (the due pass is called with ``now``); a moved or
cancelled session sends a notice whose event's SEQUENCE went up; the signed link unregisters without signing in;
opening the room during the session counts as attending; the replay is announced."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import icalendar
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.db.session import create_engine, create_sessionmaker
from learning.jobs.accounts import CONFIRM_SUBJECT
from learning.registrations.deps import registration_service
from tests.helpers.accounts import Account, login, register
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, sql, truncate_all
from tests.helpers.smtp import Inbox, smtp_server, text_of
from tests.web.conftest import csrf_token, make_admin, sign_in

# The messages about sessions sent to a learner (each new account also gets the link confirming its address).
_ABOUT_SESSIONS = "SELECT count(*) FROM mail_message WHERE recipient = $1 AND kind <> 'email_confirmation'"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server(ignored={CONFIRM_SUBJECT}) as found:  # each new account's link to confirm its address
        yield found


@pytest.fixture(scope="module")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Inbox, int]) -> Settings:
    truncate_all(database_url)
    found = make_settings(
        database_url, tmp_path_factory.mktemp("registrations") / "var", smtp_host="127.0.0.1", smtp_port=mailbox[1],
        smtp_starttls=False, login_ip_limit=10_000, register_ip_limit=10_000,
    )  # fmt: skip
    sync(found)
    return found


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings)) as found:
        yield found


@pytest.fixture
def admin(client: TestClient[Any], settings: Settings) -> Account:
    return login(client, make_admin(settings))


def _session(client: TestClient[Any], admin: Account, start: datetime, room: str | None = None) -> str:
    slug = f"a-venir-{uuid.uuid4().hex[:8]}"
    body: dict[str, Any] = {"slug": slug, "title": "Une séance à venir", "scheduled_at": start.isoformat()}
    if room:
        body["join_url"] = room
    assert client.post(f"/api/v1/admin/webinars/{SERIES}/sessions", json=body, headers=admin.headers).status_code == 201
    published = client.put(
        f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/publication", json={"state": "published"},
        headers=admin.headers,
    )  # fmt: skip
    assert published.status_code == 200
    return slug


def _due(settings: Settings, now: datetime) -> dict[str, int]:
    async def run() -> dict[str, int]:
        engine = create_engine(settings.require_database_url(), pool_size=1)
        try:
            async with create_sessionmaker(engine).begin() as session:
                return await registration_service(session, settings).send_due(now)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _event(message: EmailMessage) -> icalendar.Event:
    (attachment,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert attachment.get_filename() == "seance.ics"
    (event,) = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return event


def _learner(client: TestClient[Any]) -> Account:
    return register(client, f"inscrit-{uuid.uuid4().hex[:8]}@example.org")


def test_registering_sends_the_event_and_reminders_come_a_day_and_an_hour_before(
    client: TestClient[Any], admin: Account, settings: Settings, mailbox: tuple[Inbox, int]
) -> None:
    inbox = mailbox[0]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    slug = _session(client, admin, start, room="https://visio.example.org/salle")
    learner = _learner(client)
    created = client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug}, headers=learner.headers)
    assert created.status_code == 201, created.text
    (confirmation,) = inbox.wait_for(learner.email)
    assert confirmation["Subject"] == "Inscription confirmée : Une séance à venir"
    event = _event(confirmation)
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert str(event["LOCATION"]) == "https://visio.example.org/salle"
    assert "https://visio.example.org/salle" in text_of(confirmation)
    assert confirmation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    again = client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug}, headers=learner.headers)
    assert again.json()["id"] == created.json()["id"]
    url = settings.require_database_url()
    assert sql(url, _ABOUT_SESSIONS, learner.email)[0][0] == 1

    assert _due(settings, start - timedelta(hours=25))["first_reminders"] == 0
    assert _due(settings, start - timedelta(hours=23))["first_reminders"] >= 1
    assert _due(settings, start - timedelta(hours=22))["first_reminders"] == 0  # once
    assert _due(settings, start - timedelta(minutes=59))["second_reminders"] >= 1
    messages = inbox.wait_for(learner.email, 3)
    assert [message["Subject"] for message in messages[1:]] == [
        "Rappel : Une séance à venir", "Bientôt : Une séance à venir",
    ]  # fmt: skip
    assert "Pour la rejoindre : https://visio.example.org/salle" in text_of(messages[2])


def test_a_moved_then_cancelled_session_sends_notices_with_a_higher_sequence(
    client: TestClient[Any], admin: Account, settings: Settings, mailbox: tuple[Inbox, int]
) -> None:
    inbox = mailbox[0]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=10)
    slug = _session(client, admin, start)
    learner = _learner(client)
    client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug}, headers=learner.headers)
    first = _event(inbox.wait_for(learner.email)[0])
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}"
    later = start + timedelta(days=1)
    assert client.patch(path, json={"scheduled_at": later.isoformat()}, headers=admin.headers).status_code == 200
    _due(settings, datetime.now(UTC))
    moved = inbox.wait_for(learner.email, 2)[1]
    assert moved["Subject"] == "Séance modifiée : Une séance à venir"
    assert int(_event(moved)["SEQUENCE"]) == int(first["SEQUENCE"]) + 1
    assert _event(moved).decoded("DTSTART").astimezone(UTC) == later
    assert str(_event(moved)["UID"]) == str(first["UID"])
    client.patch(path, json={"status": "cancelled", "cancel_reason": "Salle indisponible"}, headers=admin.headers)
    _due(settings, datetime.now(UTC))
    cancelled = inbox.wait_for(learner.email, 3)[2]
    assert cancelled["Subject"] == "Séance annulée : Une séance à venir"
    assert "Salle indisponible" in text_of(cancelled)
    assert str(_event(cancelled)["STATUS"]) == "CANCELLED"
    assert int(_event(cancelled)["SEQUENCE"]) == int(first["SEQUENCE"]) + 2
    assert _due(settings, later - timedelta(hours=1)) == {
        "notices": 0,
        "first_reminders": 0,
        "second_reminders": 0,
        "replays": 0,
    }  # fmt: skip  (no reminder for a cancelled session)


def test_the_link_of_a_message_unregisters_without_signing_in(
    client: TestClient[Any], admin: Account, settings: Settings, mailbox: tuple[Inbox, int]
) -> None:
    inbox = mailbox[0]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    slug = _session(client, admin, start)
    learner = _learner(client)
    client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug}, headers=learner.headers)
    message = inbox.wait_for(learner.email)[0]
    link = re.search(r"http://testserver\.local(/seances/desinscription/[A-Za-z0-9_-]+)", text_of(message))
    assert link
    client.cookies.clear()  # nobody signed in
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert "Me désinscrire de cette séance" in page.text
    done = client.post(link.group(1), data={"_csrf_token": csrf_token(client, link.group(1))})
    assert done.status_code == 200
    assert "vous n’êtes plus inscrit à la séance" in done.text.replace("\u202f", " ")
    assert client.get("/api/v1/me/registrations", headers=learner.headers).json() == []
    # Nothing more about this session: a move is not announced to them.
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}"
    client.patch(path, json={"scheduled_at": (start + timedelta(hours=1)).isoformat()}, headers=admin.headers)
    _due(settings, datetime.now(UTC))
    assert sql(settings.require_database_url(), _ABOUT_SESSIONS, learner.email)[0][0] == 1
    # The one-click header (RFC 8058) works too, and a forged link does nothing.
    one_click = message["List-Unsubscribe"].strip("<>").removeprefix("http://testserver.local")
    assert client.post(one_click).status_code == 204
    assert client.post(one_click[:-3] + "abc").status_code == 404
    assert client.get("/seances/desinscription/nimporte-quoi").status_code == 404


def test_the_session_page_registers_and_opening_the_room_during_it_counts_as_attending(
    client: TestClient[Any], admin: Account, settings: Settings, mailbox: tuple[Inbox, int]
) -> None:
    room = "https://visio.example.org/direct"
    slug = _session(client, admin, datetime.now(UTC) + timedelta(days=2), room=room)
    learner = _learner(client)
    assert sign_in(client, learner.email).status_code == 303  # the pages' cookie session
    page = f"/webinaires/{SERIES}/{slug}"
    form = client.get(page).text
    assert "S’inscrire à la séance" in form
    done = client.post(f"{page}/inscription", data={"_csrf_token": csrf_token(client, page)})
    assert "vous êtes inscrit à cette séance" in done.text.replace("\u202f", " ")
    assert "Se désinscrire" in done.text
    # The session starts: the page offers the room, and going there through it is recorded.
    path = f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}"
    started = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    client.patch(path, json={"scheduled_at": started}, headers=admin.headers)
    assert f'href="{page}/rejoindre">Rejoindre la séance</a>' in client.get(page).text
    joined = client.get(f"{page}/rejoindre", follow_redirects=False)
    assert (joined.status_code, joined.headers["location"]) == (303, room)
    listed = client.get(f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/registrations", headers=admin.headers)
    assert [(row["email"], row["attended_at"] is not None) for row in listed.json()] == [(learner.email, True)]
    assert client.get(f"/api/v1/admin/webinars/{SERIES}/sessions/{slug}/registrations",
                      headers=learner.headers).status_code == 403  # fmt: skip
    # « Mon compte » lists the session; the admin's page lists who registered and who came.
    assert f'href="/webinaires/{SERIES}/{slug}">Une séance à venir</a>' in client.get("/compte").text
    assert sign_in(client, admin.email).status_code == 303
    desk = client.get("/admin/").text
    assert f'href="/admin/seances/{SERIES}/{slug}/inscrits"' in desk
    registrants = client.get(f"/admin/seances/{SERIES}/{slug}/inscrits").text.replace("\u202f", " ")
    assert f"<td>{learner.email}</td>" in registrants
    assert "venu à" in registrants
    assert "dont <strong>1</strong> venu" in registrants


def test_the_replay_is_announced_to_those_registered(
    client: TestClient[Any], admin: Account, settings: Settings, mailbox: tuple[Inbox, int]
) -> None:
    slug = _session(client, admin, datetime.now(UTC) + timedelta(days=1))
    learner = _learner(client)
    client.post("/api/v1/me/registrations", json={"series": SERIES, "session": slug}, headers=learner.headers)
    mailbox[0].wait_for(learner.email)
    url = settings.require_database_url()
    # A replay is attached (a shipped replay's file stands for it).
    (shipped,) = sql(url, "SELECT replay_id FROM webinar_session WHERE replay_id IS NOT NULL LIMIT 1")
    moved = "UPDATE webinar_session SET replay_id = $2, scheduled_at = now() - interval '2 hours' WHERE slug = $1"
    sql(url, moved, slug, shipped[0])
    assert _due(settings, datetime.now(UTC))["replays"] >= 1
    announced = mailbox[0].wait_for(learner.email, 2)[1]
    assert announced["Subject"] == "La rediffusion est disponible : Une séance à venir"
    assert f"/webinaires/{SERIES}/{slug}" in text_of(announced)
    assert _due(settings, datetime.now(UTC))["replays"] == 0  # once


def test_a_session_over_is_closed_to_registration(client: TestClient[Any]) -> None:
    learner = _learner(client)
    closed = client.post(
        "/api/v1/me/registrations", json={"series": SERIES, "session": "2019-01-lancement-du-cycle"},
        headers=learner.headers,
    )  # fmt: skip
    assert closed.status_code == 409
    assert closed.headers["content-type"].startswith("application/problem+json")
