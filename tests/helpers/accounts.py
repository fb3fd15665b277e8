"""Fixtures and helpers to get signed-in clients."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.admin.commands import create_admin
from learning.config import Settings

PASSWORD = "une phrase de passe assez longue"
# Rate-limit windows are fixed and aligned on the epoch: a test that counts up to a limit would see the count
# restart if a window ended between two of its requests. These windows do not end while a test runs (the
# login one ends in 2033; the registration one is the longest allowed, ending on Thursdays at 00:00 UTC).
LONG_WINDOW = 10**9
LONG_REGISTER_WINDOW = 7 * 24 * 3600
_counter = itertools.count(1)


@dataclass
class Account:
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register(client: TestClient[Any], email: str | None = None, password: str = PASSWORD) -> Account:
    email = email or f"apprenant{next(_counter)}@example.org"
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return login(client, email, password)


def login(client: TestClient[Any], email: str, password: str = PASSWORD) -> Account:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return Account(email=email, password=password, token=response.json()["access_token"])


@pytest.fixture
def learner(client: TestClient[Any]) -> Account:
    return register(client)


@pytest.fixture
def other_learner(client: TestClient[Any]) -> Account:
    return register(client)


@pytest.fixture
def admin(client: TestClient[Any], settings: Settings) -> Account:
    email = f"admin{next(_counter)}@example.org"
    asyncio.run(create_admin(settings, email=email, password=PASSWORD))
    return login(client, email)
