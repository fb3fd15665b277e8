"""Property-based fuzzing of every operation in the OpenAPI document, with schemathesis.

The document is the one the app serves at ``/schema/openapi.json`` (a fixture checks they are the same);
the app runs behind a real HTTP server (uvicorn) over the synced shipped content, with learners and an
admin signed in, and the cases are aimed at what exists there (tests/quality/fuzzing.py).
Each operation gets schema-valid and schema-violating requests (examples, coverage and fuzzing phases)
and every answer goes through all of schemathesis' checks: no 5xx, only documented status codes and
media types, bodies and headers that match the document, invalid requests refused, valid ones accepted,
authentication enforced where the document requires it. test_fuzz_stateful.py chains the operations.

The run is deterministic (derandomized Hypothesis, fixed seed). ``LEARNING_FUZZ_EXAMPLES`` raises the
number of examples per operation: ``python -m bench.fuzz`` runs this file with many more. The 500s such
deeper runs found are replayed at the end as regression tests; what was fixed in the document has its
regression tests in test_fuzz_regressions.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.helpers.catalog import SERIES
from tests.quality.fuzzing import DOCUMENT, EXAMPLES, RANDOM_MODULE_WARNING, World, call_kwargs, running_world, schema

pytestmark = RANDOM_MODULE_WARNING


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(database_url, tmp_path_factory) as world:
        yield world


def test_the_fuzzed_document_is_the_served_one(world: World) -> None:
    assert world.http.get(world.url("/schema/openapi.json"), timeout=30).json() == DOCUMENT


def test_every_path_with_parameters_has_things_to_aim_at(world: World) -> None:
    templated = {path for path in DOCUMENT["paths"] if "{" in path}
    assert templated <= {key.split(" ")[-1] for key in world.path_values}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The world fixture is module-scoped on purpose (one server, one catalogue for every case).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation_conforms_to_the_document(case: Any, world: World) -> None:
    case.call_and_validate(**call_kwargs(world, case))


# --- what the fuzzer found, fixed ---------------------------------------------------------------------------
# The smallest cases of the 500s deeper runs found (python -m bench.fuzz), kept as regression tests: dates
# at the calendar's ends (PostgreSQL stores ±infinity, date arithmetic overflows) are refused with 4xx now.
def _replay(world: World, method: str, path: str, role: str | None = None, **parts: Any) -> None:
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role else {}
    case = schema[path][method].Case(headers=headers, **parts)
    case.call_and_validate(base_url=world.base_url, session=world.http, timeout=30, checks=[not_a_server_error])


@pytest.mark.parametrize("path", ["/api/v1/admin/downloads", "/api/v1/admin/downloads/assets/{asset_id}"])
def test_downloads_up_to_the_first_days_of_year_one(world: World, path: str) -> None:
    asset = world.path_values["/api/v1/admin/downloads/assets/{asset_id}"][0]
    _replay(world, "GET", path, "admin", path_parameters=asset if "{" in path else {}, query={"to": "0001-01-01"})


@pytest.mark.parametrize("scheduled_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_sessions_at_the_ends_of_time_are_refused_and_the_feed_stays_up(world: World, scheduled_at: str) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['admin']}"}
    body = {"slug": f"hors-du-temps-{scheduled_at[:4]}", "title": "Séance hors du temps", "scheduled_at": scheduled_at}
    created = world.http.post(
        world.url(f"/api/v1/admin/webinars/{SERIES}/sessions"), json=body, headers=headers, timeout=30
    )
    assert created.status_code == 422, created.text
    _replay(world, "GET", "/feeds/webinars/{filename}", path_parameters={"filename": f"{SERIES}.xml"})


def test_events_sent_in_year_one_are_refused_and_the_xapi_export_stays_up(world: World) -> None:
    # The subscriber: the fuzzer signs in as the learner, and logging in again would meet the rate limit.
    events = [
        {"id": str(uuid.uuid4()), "type": "completed", "lesson_id": world.enrolled_lesson_ids[0], "client_time": t}
        for t in ("0001-01-01T00:00:00Z", "2019-01-24T10:00:00Z")
    ]
    headers = {"Authorization": f"Bearer {world.tokens['subscriber']}"}
    sent = world.http.post(world.url("/api/v1/me/progress/events"), json={"events": events}, headers=headers)
    assert sent.status_code == 422, sent.text
    _replay(world, "GET", "/api/v1/me/xapi/statements", "subscriber")
