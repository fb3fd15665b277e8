"""A synced catalog (once per test module), a learner enrolled in a module, and app passwords for them."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import Account, register
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, truncate_all

MODULE = "dix-ans-de-recherche"


@dataclass
class AppLogin:
    account: Account
    password: str
    password_id: str

    @property
    def basic(self) -> dict[str, str]:
        return basic(self.account.email, self.password)


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Accept": "application/json"}


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    # Many learners register (and apps sign in) from the one test client: the limits per client are not what is
    # tested here (the tests that count up to them set their own).
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("podsync") / "var", register_ip_limit=100_000, login_ip_limit=100_000
    )
    sync(settings)
    return settings


@pytest.fixture
def client(synced: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(synced)) as test_client:
        yield test_client


def enrolled(client: TestClient[Any]) -> Account:
    learner = register(client)
    response = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert response.status_code in (200, 201), response.text
    return learner


def app_password(client: TestClient[Any], account: Account, name: str = "AntennaPod") -> AppLogin:
    made = client.post("/api/v1/me/app-passwords", json={"name": name}, headers=account.headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["login_name"] == account.email
    return AppLogin(account, body["password"], body["id"])


@pytest.fixture
def app_login(client: TestClient[Any]) -> AppLogin:
    return app_password(client, enrolled(client))
