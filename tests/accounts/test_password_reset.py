"""Password reset by e-mail, against a real SMTP server on loopback (aiosmtpd): the link comes by mail, works
once, expires, ends every session; a request answers the same whether the address has an account or not; with no
SMTP server the message lands in the outbox as an .eml file; a server away means a later attempt, not a loss."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.db.session import create_engine, create_sessionmaker
from learning.jobs.accounts import CONFIRM_SUBJECT
from learning.lib.logging import redact
from learning.mail.services import MailSender, retry_delay
from learning.mail.transport import SmtpTransport
from tests.helpers.accounts import PASSWORD, login, register
from tests.helpers.database import make_settings, sql, truncate_all
from tests.helpers.live import free_port
from tests.helpers.smtp import Inbox, smtp_server, text_of
from tests.web.conftest import csrf_token

NEW_PASSWORD = "une-toute-nouvelle-phrase-de-passe"
_LINK = re.compile(r"http://testserver\.local/mot-de-passe/nouveau/([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server(ignored={CONFIRM_SUBJECT}) as found:  # each new account's link to confirm its address
        yield found


@pytest.fixture
def settings(database_url: str, tmp_path: Path, mailbox: tuple[Inbox, int]) -> Settings:
    truncate_all(database_url)
    return make_settings(
        database_url, tmp_path / "var", smtp_host="127.0.0.1", smtp_port=mailbox[1], smtp_starttls=False,
        mail_from="Les alliances <ne-pas-repondre@alliances.test>", login_ip_limit=1000,
    )  # fmt: skip


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings)) as found:
        yield found


def _reset_link(inbox: Inbox, address: str, count: int = 1) -> str:
    message = inbox.wait_for(address, count)[-1]
    assert message["Subject"] == "Choisir un nouveau mot de passe"
    assert message["From"] == "Les alliances <ne-pas-repondre@alliances.test>"
    html = message.get_body(preferencelist=("html",))
    assert html is not None  # a text part and an HTML alternative
    found = _LINK.search(text_of(message))
    assert found, text_of(message)
    assert found.group(0) in str(html.get_content())
    return found.group(1)


def test_a_reset_link_comes_by_mail_works_once_and_ends_every_session(
    client: TestClient[Any], mailbox: tuple[Inbox, int]
) -> None:
    inbox = mailbox[0]
    account = register(client, f"oubli-{uuid.uuid4().hex[:8]}@example.org")
    asked = client.post("/api/v1/auth/password-reset", json={"email": account.email.upper()})
    assert asked.status_code == 202
    token = _reset_link(inbox, account.email)
    form = client.get(f"/mot-de-passe/nouveau/{token}")
    assert form.status_code == 200
    assert "Nouveau mot de passe" in form.text
    done = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204
    assert client.get("/api/v1/me", headers=account.headers).status_code == 401  # the old session ended
    assert client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}).status_code == 401
    assert login(client, account.email, NEW_PASSWORD).token
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "encore-une-autre-phrase"}
    )
    assert again.status_code == 422
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/mot-de-passe/nouveau/{token}").status_code == 410
    # Only a hash of the token is kept.
    assert token.encode() not in b"".join(
        row[0] for row in sql(client.app.state.settings.require_database_url(), "SELECT token_hash FROM password_reset")
    )


def test_a_reset_link_expires(client: TestClient[Any], mailbox: tuple[Inbox, int], settings: Settings) -> None:
    account = register(client, f"expire-{uuid.uuid4().hex[:8]}@example.org")
    client.post("/api/v1/auth/password-reset", json={"email": account.email})
    token = _reset_link(mailbox[0], account.email)
    sql(settings.require_database_url(), "UPDATE password_reset SET expires_at = now() - interval '1 second'")
    late = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert late.status_code == 422
    assert "Demander un nouveau lien" in client.get(f"/mot-de-passe/nouveau/{token}").text
    assert login(client, account.email).token  # the password did not change


def test_known_and_unknown_addresses_get_the_same_answer_and_only_one_gets_mail(
    client: TestClient[Any], mailbox: tuple[Inbox, int], settings: Settings
) -> None:
    inbox = mailbox[0]
    known = register(client, f"connu-{uuid.uuid4().hex[:8]}@example.org").email
    unknown = f"inconnu-{uuid.uuid4().hex[:8]}@example.org"
    url = settings.require_database_url()
    jobs_before = sql(url, "SELECT count(*) FROM pgqueuer_log WHERE entrypoint = 'password_reset'")[0][0]
    for_unknown = client.post("/api/v1/auth/password-reset", json={"email": unknown})
    for_known = client.post("/api/v1/auth/password-reset", json={"email": known})
    assert (for_unknown.status_code, for_unknown.content) == (for_known.status_code, for_known.content)
    # The same work in the request: one job each (the lookup happens in the job, not while the client waits).
    inbox.wait_for(known)
    jobs_after = sql(url, "SELECT count(*) FROM pgqueuer_log WHERE entrypoint = 'password_reset'")[0][0]
    assert jobs_after - jobs_before >= 2
    assert inbox.to(unknown) == []
    assert sql(url, "SELECT count(*) FROM mail_message WHERE recipient = $1", unknown)[0][0] == 0
    forgot = "/mot-de-passe-oublie"
    pages = [client.post(forgot, data={"email": address, "_csrf_token": csrf_token(client, forgot)})
             for address in (unknown, known)]  # fmt: skip
    assert pages[0].status_code == pages[1].status_code == 200
    assert pages[0].text.replace(unknown, "@") == pages[1].text.replace(known, "@").replace(
        _csrf_of(pages[1].text), _csrf_of(pages[0].text)
    )


def test_reset_requests_are_limited_per_address(client: TestClient[Any]) -> None:
    address = f"insistant-{uuid.uuid4().hex[:8]}@example.org"
    answers = [client.post("/api/v1/auth/password-reset", json={"email": address}).status_code for _ in range(7)]
    assert answers[:5] == [202] * 5
    assert answers[5] == 429


def test_the_pages_take_a_learner_from_the_sign_in_page_to_a_new_password(
    client: TestClient[Any], mailbox: tuple[Inbox, int]
) -> None:
    account = register(client, f"pages-{uuid.uuid4().hex[:8]}@example.org")
    assert 'href="/mot-de-passe-oublie"' in client.get("/connexion").text
    sent = client.post(
        "/mot-de-passe-oublie", data={"email": account.email, "_csrf_token": csrf_token(client, "/mot-de-passe-oublie")}
    )
    assert "un e-mail vient de partir" in sent.text.replace("\u202f", " ").replace("\xa0", " ")
    token = _reset_link(mailbox[0], account.email)
    page = f"/mot-de-passe/nouveau/{token}"
    weak = client.post(page, data={"password": "court", "_csrf_token": csrf_token(client, page)})
    assert weak.status_code == 400
    assert "Mot de passe refusé" in weak.text
    done = client.post(page, data={"password": NEW_PASSWORD, "_csrf_token": csrf_token(client, page)})
    assert done.status_code == 200
    assert str(done.url).endswith("/connexion?fait=mot-de-passe")
    assert "votre mot de passe a changé" in done.text
    assert login(client, account.email, NEW_PASSWORD).token


def test_without_an_smtp_server_messages_go_to_the_outbox(database_url: str, tmp_path: Path) -> None:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path / "var")
    with TestClient(app=create_app(settings)) as client:
        account = register(client, f"boite-{uuid.uuid4().hex[:8]}@example.org")
        client.post("/api/v1/auth/password-reset", json={"email": account.email})
        written = _wait_for_mail(settings.outbox_dir, "Choisir un nouveau mot de passe")
    assert written is not None, "no .eml file came"
    assert written["To"] == account.email
    assert _LINK.search(text_of(written))


def test_a_reset_link_never_reaches_the_logs() -> None:
    line = "GET http://h/mot-de-passe/nouveau/AbC-12_x9?x=1 and /mot-de-passe/nouveau/zz%2Fyy 200"
    cleaned = redact(line)
    assert "AbC-12_x9" not in cleaned
    assert "zz" not in cleaned
    assert cleaned.count("/mot-de-passe/nouveau/***") == 2


def test_a_server_away_means_another_attempt_later_not_a_lost_message(
    database_url: str, tmp_path: Path, mailbox: tuple[Inbox, int]
) -> None:
    truncate_all(database_url)
    away = make_settings(database_url, tmp_path / "var", smtp_host="127.0.0.1", smtp_port=free_port(),
                         smtp_starttls=False, smtp_timeout_seconds=5)  # fmt: skip
    back = make_settings(database_url, tmp_path / "var", smtp_host="127.0.0.1", smtp_port=mailbox[1],
                         smtp_starttls=False)  # fmt: skip
    recipient = f"patient-{uuid.uuid4().hex[:8]}@example.org"
    asyncio.run(_send_twice(away, back, recipient))
    rows = sql(database_url, "SELECT attempts, sent_at IS NOT NULL, last_error FROM mail_message")
    assert [(row[0], row[1], row[2]) for row in rows] == [(2, True, None)]
    retries = sql(
        database_url,
        "SELECT execute_after - created FROM pgqueuer WHERE entrypoint = 'send_mail' ORDER BY id",
    )
    # The first job (run by hand here, so still queued) and the one the failed attempt queued, 30 s later.
    assert len(retries) == 2, "the failed attempt queued another one"
    assert retries[1][0].total_seconds() == pytest.approx(retry_delay(1).total_seconds(), abs=5)
    assert len(mailbox[0].wait_for(recipient)) == 1


async def _send_twice(away: Settings, back: Settings, recipient: str) -> None:
    from learning.lib.queue import JobQueue
    from learning.mail.repositories import MailRepository
    from learning.mail.services import MailService

    engine = create_engine(away.require_database_url(), pool_size=2)
    try:
        sessionmaker = create_sessionmaker(engine)
        async with sessionmaker.begin() as session:
            message_id = await MailService(MailRepository(session), JobQueue(session), away.mail_from).send(
                "password_reset", kind="password_reset", recipient=recipient, subject="Essai",
                link="http://testserver.local/mot-de-passe/nouveau/x", minutes=30, name="", site="http://testserver.local",
            )  # fmt: skip
        await MailSender(sessionmaker, SmtpTransport(away), away.mail_from).handle(message_id.bytes)
        await MailSender(sessionmaker, SmtpTransport(back), back.mail_from).handle(message_id.bytes)
        await MailSender(sessionmaker, SmtpTransport(back), back.mail_from).handle(message_id.bytes)  # sent: no-op
    finally:
        await engine.dispose()


def _wait_for_mail(folder: Path, subject: str, limit: float = 30.0) -> EmailMessage | None:
    """The .eml file of the outbox with ``subject``, once the job has written it."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for path in folder.glob("*.eml") if folder.exists() else ():
            written = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if isinstance(written, EmailMessage) and written["Subject"] == subject:
                return written
        time.sleep(0.1)  # polling the job's output, not a timing assertion
    return None


_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


def _csrf_of(page: str) -> str:
    found = _META_CSRF.search(page)
    assert found
    return found.group(1)
