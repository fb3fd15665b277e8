"""A statement or lock wait that runs out (``statement_timeout``, ``lock_timeout``) is a busy database: 503
with Retry-After, like an outage, never a 500 — provoked here for real, with a lock held by another
connection on the rate-limit counters a registration writes first."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.locks import table_locked


@pytest.mark.parametrize(
    "timeouts",
    [
        pytest.param({"database_lock_timeout_ms": 50}, id="lock-timeout"),
        pytest.param(
            {"database_lock_timeout_ms": 60_000, "database_statement_timeout_ms": 200}, id="statement-timeout"
        ),
    ],
)
def test_a_wait_that_runs_out_is_503_with_retry_after(
    make_client: Any, clean_database: str, timeouts: dict[str, int]
) -> None:
    client = make_client(**timeouts)
    with table_locked(clean_database, "rate_limit_counter"):
        response = client.post(
            "/api/v1/auth/register", json={"email": "attente@example.org", "password": "une phrase assez longue"}
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    # Nothing half-done: once the lock is gone the same registration goes through.
    again = client.post(
        "/api/v1/auth/register", json={"email": "attente@example.org", "password": "une phrase assez longue"}
    )
    assert again.status_code == 201, again.text
