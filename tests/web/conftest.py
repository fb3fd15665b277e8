"""The pages over a synced catalog: one database per test module (the tests create their own accounts), test
clients that keep cookies like a browser, and helpers to read a page's CSRF token and sign in."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, truncate_all
from tests.web.browsing import browser, context, live  # noqa: F401  (fixtures for every browser test)

MODULE = "comprendre-la-co-construction-territoriale"
VIDEO_LESSON = "la-co-construction-en-quelques-mots"
TEXT_LESSON = "pourquoi-faire-alliance"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
_counter = itertools.count(1)


@pytest.fixture(scope="module")
def web_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A synced catalog shared by a test module; sign-in limits high enough for many accounts."""
    truncate_all(database_url)
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("web") / "var", login_ip_limit=10_000, register_ip_limit=10_000
    )
    sync(settings)
    return settings


@pytest.fixture
def web(web_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(web_settings)) as client:
        yield client


def csrf_token(client: TestClient[Any], path: str = "/") -> str:
    """The token a page gives its forms and scripts (it repeats the CSRF cookie)."""
    found = _META_CSRF.search(client.get(path).text)
    assert found, "no CSRF token in the page"
    return found.group(1)


def new_email(kind: str = "apprenant") -> str:
    return f"{kind}-web{next(_counter)}@example.org"


def sign_up(client: TestClient[Any], email: str | None = None) -> str:
    """Create an account through the sign-up page (the session cookie comes with the answer)."""
    email = email or new_email()
    form = {"email": email, "password": PASSWORD, "display_name": "", "suite": "/", "_csrf_token": csrf_token(client)}
    response = client.post("/inscription", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    return email


def sign_in(client: TestClient[Any], email: str, password: str = PASSWORD, suite: str = "/") -> Any:
    form = {"email": email, "password": password, "suite": suite, "_csrf_token": csrf_token(client, "/connexion")}
    return client.post("/connexion", data=form, follow_redirects=False)


def make_admin(settings: Settings) -> str:
    email = new_email("regie")
    asyncio.run(create_admin(settings, email=email, password=PASSWORD))
    return email
