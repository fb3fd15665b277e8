"""Confirmed e-mail addresses, against a real SMTP server on loopback (aiosmtpd): a new account gets a link that
confirms its address once and expires; a learner moves to a new address only when a link sent there is opened
(the old address is told); a setting can ask for a confirmed address before enrolling; the pages do all of it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.jobs.accounts import CHANGE_NOTICE_SUBJECT, CHANGE_SUBJECT, CONFIRM_SUBJECT
from learning.lib.logging import redact
from tests.helpers.accounts import PASSWORD, Account, login, register
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, sql, truncate_all
from tests.helpers.progress import MODULE
from tests.helpers.smtp import Inbox, smtp_server, text_of
from tests.web.conftest import csrf_token, sign_in, sign_up

_LINK = re.compile(r"http://testserver\.local/adresse/confirmer/([A-Za-z0-9_-]+)")


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as found:
        yield found


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Inbox, int]) -> Settings:
    truncate_all(database_url)
    found = _settings(database_url, tmp_path_factory.mktemp("addresses") / "var", mailbox[1])
    sync(found)
    return found


def _settings(database_url: str, data_dir: Path, port: int, **changes: Any) -> Settings:
    return make_settings(
        database_url, data_dir, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        login_ip_limit=10_000, register_ip_limit=10_000, **changes,
    )  # fmt: skip


@pytest.fixture
def client(synced: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(synced)) as found:
        yield found


def _address(kind: str = "adresse") -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}@example.org"


def _link(inbox: Inbox, address: str, subject: str = CONFIRM_SUBJECT) -> str:
    message = _message(inbox, address, subject)
    html = message.get_body(preferencelist=("html",))
    assert html is not None  # a text part and an HTML alternative
    found = _LINK.search(text_of(message))
    assert found, text_of(message)
    assert found.group(0) in str(html.get_content())
    return found.group(1)


def _message(inbox: Inbox, address: str, subject: str) -> EmailMessage:
    """The first message to ``address`` with ``subject``, once it came (``wait_for`` bounds the wait)."""
    count = 1
    while True:
        came = inbox.wait_for(address, count)
        matching = [found for found in came if found["Subject"] == subject]
        if matching:
            return matching[0]
        count = len(came) + 1


def _me(client: TestClient[Any], account: Account) -> dict[str, Any]:
    answer = client.get("/api/v1/me", headers=account.headers)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def test_a_new_account_gets_a_link_that_confirms_its_address_once(
    client: TestClient[Any], mailbox: tuple[Inbox, int], synced: Settings
) -> None:
    account = register(client, _address("nouveau"))
    assert _me(client, account)["email_verified_at"] is None
    token = _link(mailbox[0], account.email)
    form = client.get(f"/adresse/confirmer/{token}")
    assert form.status_code == 200
    assert account.email in form.text
    assert _me(client, account)["email_verified_at"] is None  # opening the page alone confirms nothing
    confirmed = client.post("/api/v1/auth/email-confirmation", json={"token": token})
    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == account.email
    assert _me(client, account)["email_verified_at"] is not None
    again = client.post("/api/v1/auth/email-confirmation", json={"token": token})
    assert again.status_code == 422
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/adresse/confirmer/{token}").status_code == 410
    # Only a hash of the token is kept.
    stored = sql(synced.require_database_url(), "SELECT token_hash FROM email_confirmation")
    assert stored
    assert token.encode() not in b"".join(row[0] for row in stored)
    # Confirmed: no new link to ask for.
    assert client.post("/api/v1/me/email/verification", headers=account.headers).status_code == 409


def test_a_confirmation_link_expires(client: TestClient[Any], mailbox: tuple[Inbox, int], synced: Settings) -> None:
    account = register(client, _address("tardif"))
    token = _link(mailbox[0], account.email)
    sql(
        synced.require_database_url(),
        "UPDATE email_confirmation SET expires_at = now() - interval '1 second' WHERE user_id = $1",
        uuid.UUID(_me(client, account)["id"]),
    )
    assert client.post("/api/v1/auth/email-confirmation", json={"token": token}).status_code == 422
    assert "Ce lien ne fonctionne plus" in client.get(f"/adresse/confirmer/{token}").text
    assert _me(client, account)["email_verified_at"] is None


def test_a_new_link_can_be_asked_for_and_asking_is_limited(client: TestClient[Any], mailbox: tuple[Inbox, int]) -> None:
    account = register(client, _address("relance"))
    first = _link(mailbox[0], account.email)
    asked = client.post("/api/v1/me/email/verification", headers=account.headers)
    assert asked.status_code == 202
    assert asked.json()["email"] == account.email
    mailbox[0].wait_for(account.email, 2)
    links = _LINK.findall("".join(text_of(message) for message in mailbox[0].to(account.email)))
    assert len(set(links)) == 2
    assert first in links
    # Opening one link ends the others.
    assert client.post("/api/v1/auth/email-confirmation", json={"token": links[-1]}).status_code == 200
    assert client.post("/api/v1/auth/email-confirmation", json={"token": first}).status_code == 422
    other = register(client, _address("insistant"))
    answers = [client.post("/api/v1/me/email/verification", headers=other.headers).status_code for _ in range(6)]
    assert answers[:5] == [202] * 5
    assert answers[5] == 429


def test_a_learner_moves_to_a_new_address_only_once_a_link_sent_there_is_opened(
    client: TestClient[Any], mailbox: tuple[Inbox, int]
) -> None:
    inbox = mailbox[0]
    account = register(client, _address("ancienne"))
    new = _address("nouvelle")
    asked = client.put("/api/v1/me/email", json={"email": new.upper(), "password": PASSWORD}, headers=account.headers)
    assert asked.status_code == 202, asked.text
    assert asked.json()["email"] == new  # normalised
    token = _link(inbox, new, CHANGE_SUBJECT)
    notice = _message(inbox, account.email, CHANGE_NOTICE_SUBJECT)
    assert new in text_of(notice)
    assert _LINK.search(text_of(notice)) is None  # the old address cannot confirm the new one
    # Until the link is opened, nothing changes.
    assert _me(client, account)["email"] == account.email
    assert client.post("/api/v1/auth/login", json={"email": new, "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/email-confirmation", json={"token": token}).status_code == 200
    me = _me(client, account)  # the same session goes on, with the new address
    assert me["email"] == new
    assert me["email_verified_at"] is not None
    assert login(client, new).token
    assert client.post("/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}).status_code == 401


def test_a_change_asks_for_the_password_and_a_free_address(client: TestClient[Any]) -> None:
    account = register(client, _address("prudent"))
    taken = register(client, _address("pris")).email

    def ask(email: str, password: str = PASSWORD) -> int:
        body = {"email": email, "password": password}
        return client.put("/api/v1/me/email", json=body, headers=account.headers).status_code

    assert ask(_address(), "pas le bon mot de passe") == 401
    assert ask(account.email) == 422
    assert ask("pas-une-adresse") == 422
    assert ask(taken) == 409
    assert client.put("/api/v1/me/email", json={"email": _address(), "password": PASSWORD}).status_code == 401


def test_an_address_taken_meanwhile_stays_with_the_account_that_took_it(
    client: TestClient[Any], mailbox: tuple[Inbox, int]
) -> None:
    account = register(client, _address("lent"))
    wanted = _address("convoitee")
    body = {"email": wanted, "password": PASSWORD}
    assert client.put("/api/v1/me/email", json=body, headers=account.headers).status_code == 202
    token = _link(mailbox[0], wanted, CHANGE_SUBJECT)
    register(client, wanted)
    late = client.post("/api/v1/auth/email-confirmation", json={"token": token})
    assert late.status_code == 409
    assert _me(client, account)["email"] == account.email


def test_a_setting_asks_for_a_confirmed_address_before_enrolling(
    database_url: str, tmp_path: Path, mailbox: tuple[Inbox, int], synced: Settings
) -> None:
    settings = _settings(database_url, tmp_path / "var", mailbox[1], require_verified_email=True)
    with TestClient(app=create_app(settings)) as client:
        account = register(client, _address("exigence"))
        refused = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=account.headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["title"] == "E-mail address not confirmed"
        assert client.post("/api/v1/auth/email-confirmation", json={"token": _link(mailbox[0], account.email)})
        enrolled = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=account.headers)
        assert enrolled.status_code == 201
    # Without the setting (the default), an unconfirmed address enrolls.
    with TestClient(app=create_app(synced)) as client:
        other = register(client, _address("libre"))
        assert client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=other.headers).status_code == 201


def test_the_pages_confirm_an_address_and_change_it(
    database_url: str, tmp_path: Path, mailbox: tuple[Inbox, int], synced: Settings
) -> None:
    inbox = mailbox[0]
    settings = _settings(database_url, tmp_path / "var", mailbox[1], require_verified_email=True)
    with TestClient(app=create_app(settings)) as client:
        email = sign_up(client, _address("pages"))
        first = _link(inbox, email)
        # Enrolling waits for a confirmed address, and the page says how.
        enroll = f"/modules/{MODULE}/inscription"
        held = client.post(enroll, data={"_csrf_token": csrf_token(client, f"/modules/{MODULE}")})
        assert str(held.url).endswith("/compte/adresse?fait=a-confirmer")
        assert "confirmez d’abord votre adresse e-mail" in held.text
        assert "n’est pas encore confirmée" in held.text
        assert "(adresse non confirmée" in client.get("/compte").text
        # « Renvoyer le lien »: a second link; the page confirms with a button.
        resend = {"_csrf_token": csrf_token(client, "/compte/adresse")}
        resent = client.post("/compte/adresse/verification", data=resend)
        assert str(resent.url).endswith("/compte/adresse?fait=lien-envoye")
        inbox.wait_for(email, 2)
        (second,) = {found for found in _LINK.findall("".join(text_of(m) for m in inbox.to(email))) if found != first}
        page = f"/adresse/confirmer/{second}"
        done = client.post(page, data={"_csrf_token": csrf_token(client, page)})
        assert str(done.url).endswith("/compte?fait=adresse-confirmee")
        assert "votre adresse e-mail est confirmée" in done.text
        assert "(adresse non confirmée" not in done.text
        enrolled = client.post(enroll, data={"_csrf_token": csrf_token(client, f"/modules/{MODULE}")})
        assert str(enrolled.url).endswith(f"/modules/{MODULE}?fait=inscrit")
        # Changing the address from the page: wrong password first, then the link at the new address.
        new = _address("pages-nouvelle")
        form = "/compte/adresse"
        wrong = client.post(form, data={"email": new, "password": "faux", "_csrf_token": csrf_token(client, form)})
        assert wrong.status_code == 400
        assert "Ce n’est pas votre mot de passe" in wrong.text
        asked = client.post(form, data={"email": new, "password": PASSWORD, "_csrf_token": csrf_token(client, form)})
        assert asked.status_code == 200
        assert f"Un lien de confirmation part vers {new}" in asked.text
        token = _link(inbox, new, CHANGE_SUBJECT)
        # Opened in a browser that is not signed in: the address changes, then the sign-in page says so.
        client.cookies.clear()
        page = f"/adresse/confirmer/{token}"
        assert new in client.get(page).text
        moved = client.post(page, data={"_csrf_token": csrf_token(client, page)})
        assert str(moved.url).endswith("/connexion?fait=adresse")
        assert "votre adresse e-mail est confirmée" in moved.text
        assert sign_in(client, new).status_code == 303


def test_a_confirmation_link_never_reaches_the_logs() -> None:
    cleaned = redact("GET /adresse/confirmer/AbC-12_x9?x=1 200")
    assert "AbC-12_x9" not in cleaned
    assert "/adresse/confirmer/***" in cleaned
