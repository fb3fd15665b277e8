"""The xAPI export of quiz attempts: per attempt an ``answered`` statement per question (a cmi.interaction with the
response, whether it was right and its points) and ``passed`` or ``failed`` with the score, valid for Ralph's
models, with stable ids, paged with the rest; a module whose quiz is required is ``completed`` only once passed."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.base.unnested_objects import BaseXapiActivityInteractionDefinition
from ralph.models.xapi.concepts.verbs.adl_vocabulary import AnsweredVerb

from learning.config import Settings
from tests.helpers.accounts import Account
from tests.quizzes.conftest import SLUG, complete_lessons

ATTEMPTS = f"/api/v1/me/quizzes/{SLUG}/attempts"
ADL = "http://adlnet.gov/expapi/verbs/"
WRONG = {"annee": ["a"], "acteurs": ["asso"]}
RIGHT = {"annee": ["b"], "acteurs": ["elus", "asso"], "partenaire": "caisse des depots"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Pages followed as fast as a test goes (the pace has its own tests in tests/quality)."""
    return settings.model_copy(update={"xapi_page_burst": 10_000})


def _statements(client: TestClient[Any], account: Account, limit: int = 500) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    url = f"/api/v1/me/xapi/statements?limit={limit}"
    while url:
        page = client.get(url, headers=account.headers)
        assert page.status_code == 200, page.text
        found += page.json()["statements"]
        url = page.json()["more"]
    return found


def _quiz_statements(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if s["verb"]["id"] in {ADL + "answered", ADL + "passed", ADL + "failed"}]


def _registration(client: TestClient[Any], account: Account) -> str:
    (enrollment,) = client.get("/api/v1/me/enrollments", headers=account.headers).json()
    return str(enrollment["registration"])


def test_each_attempt_is_answered_statements_then_passed_or_failed(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    for answers in (WRONG, RIGHT):
        assert client.post(ATTEMPTS, json={"answers": answers}, headers=enrolled.headers).status_code == 201
    found = _quiz_statements(_statements(client, enrolled))
    assert [s["verb"]["id"].removeprefix(ADL) for s in found] == ["answered"] * 3 + ["failed"] + ["answered"] * 3 + [
        "passed"
    ]
    registration = _registration(client, enrolled)
    for statement in found:
        BaseXapiStatement(**statement)
        assert statement["context"]["registration"] == registration
    for statement in found[:3] + found[4:7]:
        AnsweredVerb(**statement["verb"])
        BaseXapiActivityInteractionDefinition(**statement["object"]["definition"])
    first, failed = found[:3], found[3]
    assert [s["result"]["success"] for s in first] == [False, False, False]
    assert first[0]["result"]["response"] == "a"
    assert first[1]["object"]["definition"]["correctResponsesPattern"] == ["asso[,]elus"]
    assert "response" not in first[2]["result"]  # left out
    assert failed["result"] == {
        "score": {"scaled": 0.0, "raw": 0, "min": 0, "max": 4},
        "success": False,
        "completion": True,
    }
    assert failed["object"]["id"].endswith(f"/api/v1/modules/{SLUG}/quiz")
    passed = found[7]
    assert passed["result"]["score"] == {"scaled": 1.0, "raw": 4, "min": 0, "max": 4}
    assert found[6]["result"] == {"success": True, "response": "caisse des depots",
                                  "score": {"raw": 1, "min": 0, "max": 1}}  # fmt: skip
    # The same ids on a second export; pages of three run through the section.
    assert [s["id"] for s in _quiz_statements(_statements(client, enrolled))] == [s["id"] for s in found]
    assert [s["id"] for s in _quiz_statements(_statements(client, enrolled, limit=3))] == [s["id"] for s in found]


def test_a_module_whose_quiz_is_required_is_completed_only_once_it_is_passed(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    complete_lessons(client, enrolled, course)

    def module_verb() -> str:
        modules = [s for s in _statements(client, enrolled) if s["object"]["id"].endswith(f"/api/v1/modules/{SLUG}")]
        (statement,) = modules
        verb: str = statement["verb"]["id"].removeprefix(ADL)
        return verb

    assert module_verb() == "progressed"
    client.post(ATTEMPTS, json={"answers": WRONG}, headers=enrolled.headers)
    assert module_verb() == "progressed"
    client.post(ATTEMPTS, json={"answers": RIGHT}, headers=enrolled.headers)
    assert module_verb() == "completed"
