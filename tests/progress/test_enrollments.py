"""Enrollments: a learner enrolls in published modules, sees only their own, unenrolls keeping history."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account
from tests.helpers.catalog import sync
from tests.helpers.database import sql

MODULE = "dix-ans-de-recherche"


@pytest.fixture
def synced(settings: Settings) -> Settings:
    sync(settings)
    return settings


def test_enroll_list_and_enroll_again(client: TestClient[Any], learner: Account, synced: Settings) -> None:
    created = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert created.status_code == 201
    body = created.json()
    assert (body["module"], body["status"]) == (MODULE, "active")
    again = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert again.status_code == 200
    assert again.json()["registration"] == body["registration"]
    listing = client.get("/api/v1/me/enrollments", headers=learner.headers).json()
    assert [e["module"] for e in listing] == [MODULE]


def test_unenrolling_keeps_the_history_and_reenrolling_restores_it(
    client: TestClient[Any], learner: Account, synced: Settings
) -> None:
    registration = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers).json()[
        "registration"
    ]
    assert client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=learner.headers).status_code == 204
    assert client.get("/api/v1/me/enrollments", headers=learner.headers).json() == []
    rows = sql(synced.require_database_url(), "SELECT status FROM enrollment")
    assert [r["status"] for r in rows] == ["withdrawn"]  # kept, not deleted
    assert client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=learner.headers).status_code == 404
    back = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert back.status_code == 201
    assert back.json()["registration"] == registration


def test_a_learner_sees_only_their_own(
    client: TestClient[Any], learner: Account, other_learner: Account, synced: Settings
) -> None:
    client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert client.get("/api/v1/me/enrollments", headers=other_learner.headers).json() == []
    assert client.delete(f"/api/v1/me/enrollments/{MODULE}", headers=other_learner.headers).status_code == 404
    assert len(client.get("/api/v1/me/enrollments", headers=learner.headers).json()) == 1


def test_unpublished_or_unknown_modules_cannot_be_joined(
    client: TestClient[Any], learner: Account, synced: Settings
) -> None:
    for slug in ["evaluer-et-faire-durer-une-alliance", "inconnu"]:
        response = client.post("/api/v1/me/enrollments", json={"module": slug}, headers=learner.headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    bad = client.post("/api/v1/me/enrollments", json={"module": "Pas Un Slug"}, headers=learner.headers)
    assert bad.status_code == 422


def test_anonymous_is_401(client: TestClient[Any]) -> None:
    assert client.get("/api/v1/me/enrollments").status_code == 401
    assert client.post("/api/v1/me/enrollments", json={"module": MODULE}).status_code == 401
