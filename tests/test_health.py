"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient


def test_live_answers_200(client: TestClient[Any]) -> None:
    assert client.get("/health/live").json()["status"] == "ok"


def test_ready_answers_200_when_database_and_storage_answer(client: TestClient[Any]) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok"}


def test_ready_is_503_naming_the_database_when_postgresql_is_down(make_client: Any) -> None:
    client = make_client(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]
    body = response.json()
    assert body["checks"]["database"] != "ok"
    assert body["checks"]["storage"] == "ok"
    assert "database" in body["detail"]
    assert client.get("/health/live").status_code == 200


def test_requests_needing_the_database_get_503_when_it_is_down(make_client: Any) -> None:
    client = make_client(database_url="postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    response = client.post("/api/v1/auth/login", json={"email": "a@example.org", "password": "quelque chose"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"]


def test_ready_is_503_naming_storage_when_the_store_is_missing(make_client: Any, tmp_path: Any) -> None:
    client = make_client(local_storage_root=tmp_path / "gone")
    (tmp_path / "gone").rmdir()
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] != "ok"
