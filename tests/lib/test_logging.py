"""One JSON line per request, with secrets kept out."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.lib.logging import JsonFormatter, redact_path
from tests.helpers.accounts import PASSWORD, Account


@pytest.fixture
def access_lines() -> Any:
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(JsonFormatter().format(record))

    handler = Collect()
    logger = logging.getLogger("learning.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)


def test_each_request_logs_one_structured_line(client: TestClient[Any], access_lines: list[str]) -> None:
    response = client.get("/health/live?probe=1", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len(access_lines) == 1
    entry = json.loads(access_lines[0])
    assert entry["method"] == "GET"
    assert entry["path"] == "/health/live"
    assert entry["status"] == 200
    assert entry["request_id"] == "abc-123"
    assert isinstance(entry["duration_ms"], float)


def test_unknown_routes_are_logged_too(client: TestClient[Any], access_lines: list[str]) -> None:
    client.get("/nowhere")
    assert json.loads(access_lines[-1])["status"] == 404


def test_tokens_passwords_and_query_strings_stay_out_of_logs(
    client: TestClient[Any], learner: Account, access_lines: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get("/api/v1/me?X-Amz-Signature=deadbeef", headers=learner.headers)
    client.post("/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD})
    client.get("/feeds/private/secret-token-value/modules/x.xml")
    # Everything the server side logged (httpx is the test client's own logger).
    server_records = [r for r in caplog.records if not r.name.startswith("httpx")]
    everything = "\n".join(access_lines + [JsonFormatter().format(r) for r in server_records])
    assert learner.token not in everything
    assert PASSWORD not in everything
    assert "deadbeef" not in everything
    assert "secret-token-value" not in everything


def test_private_feed_token_is_masked_in_paths() -> None:
    assert redact_path("/feeds/private/abcDEF123/modules/m.xml") == "/feeds/private/***/modules/m.xml"
    assert redact_path("/api/v1/modules") == "/api/v1/modules"
