"""Quizzes over the API: scored on the server only (choices in any order, repeated, text normalised), the answers
never reach the client before a submission, attempts are limited and kept, and a required quiz is part of the
module's completion."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from tests.helpers.accounts import Account, register
from tests.quizzes.conftest import SECRET_KEYS, SECRETS, SLUG, complete_lessons

ATTEMPTS = f"/api/v1/me/quizzes/{SLUG}/attempts"
ALL_RIGHT = {"annee": ["b"], "acteurs": ["asso", "elus"], "partenaire": "Caisse des Dépôts"}


def _submit(client: TestClient[Any], account: Account, answers: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(ATTEMPTS, json={"answers": answers}, headers=account.headers)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} shows {secret!r} before any submission"


def test_the_quiz_reaches_the_client_without_its_answers(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    public = client.get(f"/api/v1/modules/{SLUG}/quiz")
    assert public.status_code == 200
    quiz = public.json()
    assert [question["id"] for question in quiz["questions"]] == ["annee", "acteurs", "partenaire"]
    assert [choice["id"] for choice in quiz["questions"][0]["choices"]] == ["a", "b", "c"]
    assert quiz["required"] is True
    assert quiz["pass_mark"] == 60
    # Every answer a client can get before submitting, signed in or not: the API and the pages.
    before = [
        (f"GET /api/v1/modules/{SLUG}/quiz", public.text),
        (f"GET {ATTEMPTS}", client.get(ATTEMPTS, headers=enrolled.headers).text),
        (f"GET /modules/{SLUG}/quiz", client.get(f"/modules/{SLUG}/quiz").text),
        (f"GET /modules/{SLUG}", client.get(f"/modules/{SLUG}").text),
        ("GET /schema/openapi.json", client.get("/schema/openapi.json").text),
    ]
    for where, text in before:
        _no_secret(text, where)
    for key in SECRET_KEYS:
        assert key not in public.text, key


def test_scoring_takes_choices_in_any_order_once_each_and_text_normalised(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    shuffled = {"partenaire": "  caisse des DEPOTS ! ", "acteurs": ["elus", "asso", "elus", "asso"], "annee": "b"}
    result = _submit(client, enrolled, shuffled)
    assert (result["points"], result["max_points"], result["score"], result["passed"]) == (4, 4, 1.0, True)
    assert [item["correct"] for item in result["results"]] == [True, True, True]
    assert result["results"][1]["given"] == ["asso", "elus"]  # once each, in the quiz's order
    # After submitting, the right answers and the feedback, and the lesson to read again.
    assert result["results"][0]["expected"] == ["b"]
    assert "SECRET-RETOUR-B" in result["results"][0]["feedback"][0]
    assert result["results"][2]["expected"] == ["Caisse des Dépôts"]
    assert result["results"][1]["lesson"] == f"/modules/{SLUG}/lecons/seconde"


def test_a_partly_right_attempt_scores_its_share_and_passes_only_at_the_mark(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    # The multiple-choice question (2 points) needs exactly its correct choices: one of two is wrong.
    half = _submit(client, enrolled, {"annee": ["b"], "acteurs": ["asso"], "partenaire": "la Banque"})
    assert (half["points"], half["score"], half["passed"]) == (1, 0.25, False)
    assert "C’était la Caisse des Dépôts." in half["results"][2]["feedback"]
    enough = _submit(client, enrolled, {"acteurs": ["asso", "elus"], "annee": ["a"]})  # 2 of 4 points left out
    assert (enough["points"], enough["passed"]) == (2, False)
    assert enough["results"][2]["given"] is None
    best = _submit(client, enrolled, {"acteurs": ["asso", "elus"], "annee": ["b"]})  # 3 of 4: 75 % ≥ 60 %
    assert (best["points"], best["passed"], best["number"]) == (3, True, 3)
    history = client.get(ATTEMPTS, headers=enrolled.headers).json()
    assert [attempt["number"] for attempt in history["attempts"]] == [1, 2, 3]
    assert (history["best_score"], history["passed"], history["attempts_left"]) == (0.75, True, 0)
    # No attempt left: refused, and nothing kept.
    over = client.post(ATTEMPTS, json={"answers": ALL_RIGHT}, headers=enrolled.headers)
    assert over.status_code == 409
    assert over.headers["content-type"].startswith("application/problem+json")
    assert len(client.get(ATTEMPTS, headers=enrolled.headers).json()["attempts"]) == 3


def test_bad_answers_are_refused_before_an_attempt_counts(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    for answers in ({"annee": ["a", "b"]}, {"annee": ["z"]}, {"inconnue": ["a"]}, {"partenaire": ["a"]}):
        refused = client.post(ATTEMPTS, json={"answers": answers}, headers=enrolled.headers)
        assert refused.status_code == 422, answers
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert client.get(ATTEMPTS, headers=enrolled.headers).json()["attempts_left"] == 3


def test_only_enrolled_learners_answer_and_each_sees_only_their_attempts(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    stranger = register(client, f"passant-{uuid.uuid4().hex[:8]}@example.org")
    assert client.post(ATTEMPTS, json={"answers": ALL_RIGHT}, headers=stranger.headers).status_code == 409
    assert client.post(ATTEMPTS, json={"answers": ALL_RIGHT}).status_code == 401
    _submit(client, enrolled, ALL_RIGHT)
    assert client.get(ATTEMPTS, headers=stranger.headers).json()["attempts"] == []
    assert client.get("/api/v1/modules/pas-de-module/quiz").status_code == 404


def test_a_required_quiz_is_part_of_the_module_completion(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    complete_lessons(client, enrolled, course)
    progress = f"/api/v1/me/progress/modules/{SLUG}"
    lessons_only = client.get(progress, headers=enrolled.headers).json()
    assert lessons_only["percent_complete"] == 66.7  # two lessons of three steps: the quiz is the third
    _submit(client, enrolled, {"annee": ["a"]})  # failed: still not complete
    assert client.get(progress, headers=enrolled.headers).json()["percent_complete"] == 66.7
    _submit(client, enrolled, ALL_RIGHT)
    assert client.get(progress, headers=enrolled.headers).json()["percent_complete"] == 100.0


def test_the_account_export_holds_the_attempts(
    client: TestClient[Any], course: dict[str, str], enrolled: Account
) -> None:
    _submit(client, enrolled, {"annee": ["a"], "partenaire": "la Banque"})
    exported = client.get("/api/v1/me/export", headers=enrolled.headers).json()
    (attempt,) = exported["quiz_attempts"]
    assert (attempt["module"], attempt["number"], attempt["passed"]) == (SLUG, 1, False)
    assert attempt["answers"] == {"annee": ["a"], "partenaire": "la Banque"}
    assert [s["verb"]["id"].rsplit("/", 1)[1] for s in exported["xapi_statements"]].count("answered") == 3
