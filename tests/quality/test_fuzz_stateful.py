"""Stateful fuzzing: schemathesis chains the operations of the OpenAPI document, feeding what one answer
gives (an id, a slug, an upload) into the next request, and every answer must be no 5xx and match the
document (status code, media type, headers, body).

The links between operations are the ones schemathesis infers from the document (response fields and path
parameters with matching names); the first request of a scenario is aimed at what exists, like the
single-operation fuzzing (tests/quality/fuzzing.py), on the same kind of world: a live uvicorn server over
the shipped content, a learner and an admin signed in. Each seed is a separate, reproducible run
(``LEARNING_FUZZ_SCENARIOS`` and ``LEARNING_FUZZ_STEPS`` run more and longer scenarios).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.quality.fuzzing import RANDOM_MODULE_WARNING, World, call_kwargs, running_world, schema

pytestmark = RANDOM_MODULE_WARNING

SEEDS = (20181224, 20190124, 20191212)  # the launch day, the first and the last webinar of 2019
SCENARIOS = int(os.environ.get("LEARNING_FUZZ_SCENARIOS", "10"))
STEPS = int(os.environ.get("LEARNING_FUZZ_STEPS", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# Deleting an account found on the way (GET /me, the list of users) would delete the accounts the scenarios
# run as: every later step would only meet 401s. The single-operation fuzzing deletes an account of its own.
_WORKFLOW = schema.exclude(operation_id="DeleteUser").as_state_machine()


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(database_url, tmp_path_factory) as world:
        yield world


@dataclass
class _Run:
    """What the scenarios of one test met: the failures of their steps, and how many scenarios ended."""

    failures: list[Exception] = field(default_factory=list)
    scenarios: int = 0


def _workflow(world: World, run: _Run) -> type[Any]:
    class Workflow(_WORKFLOW):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return call_kwargs(world, case)

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder)
            except Exception as failure:
                run.failures.append(failure)
                raise

        def teardown(self) -> None:
            super().teardown()
            run.scenarios += 1

    return Workflow


@pytest.mark.parametrize("scenario_seed", SEEDS)
def test_chained_operations_answer_no_5xx_and_conform(world: World, scenario_seed: int) -> None:
    run = _Run()
    for attempt in range(SCENARIOS):
        workflow = seed(scenario_seed + attempt)(_workflow(world, run))
        try:
            workflow.run(
                settings=settings(
                    max_examples=SCENARIOS - run.scenarios,
                    stateful_step_count=STEPS,
                    phases=[Phase.generate],  # a scenario cannot be replayed: the server keeps what it made
                    database=None,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                )
            )
            return
        except FlakyStrategyDefinition:
            # The same choices met other answers than before (an earlier scenario created what this one tries to
            # create, say), so Hypothesis cannot go on. Unless a step failed on the way, the scenarios left run
            # from the next seed, as schemathesis' own runner goes on.
            if run.failures:
                raise run.failures[0] from None
            if run.scenarios >= SCENARIOS:
                return
    pytest.fail(f"{run.scenarios} scenarios of {SCENARIOS} ran: answers kept changing under the same choices")
