"""Scoring on the server: the questions without their answers for the client, and an attempt's verdict.

A choice question is right when the set of choices sent is exactly the set of correct ones (order and
repetition do not count); a short-text question when the answer, normalised (case, accents, spaces and
punctuation aside), is one of the accepted ones. A question left out is wrong. The score is the share of the
points; the attempt passes at ``pass_mark`` percent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from learning.catalog.content.quizzes import normalise_answer
from learning.db import models as m
from learning.lib.errors import Unprocessable

MAX_TEXT_ANSWER = 200

Answer = list[str] | str


class BadAnswers(Unprocessable):
    title = "Invalid answers"


@dataclass(frozen=True, slots=True)
class Verdict:
    question: dict[str, Any]
    given: list[str] | str | None  # what was sent (choice ids without repeats, in the quiz's order), None: left out
    correct: bool


@dataclass(frozen=True, slots=True)
class Scored:
    verdicts: list[Verdict]
    points: int
    max_points: int
    score: float  # 0 to 1
    passed: bool


def public_questions(quiz: m.Quiz) -> list[dict[str, Any]]:
    """The questions as the client sees them before answering: no correct flag, no feedback, no accepted text."""
    shown: list[dict[str, Any]] = []
    for question in quiz.questions:
        item = {"id": question["id"], "kind": question["kind"], "prompt": question["prompt"],
                "points": question["points"]}  # fmt: skip
        if question["kind"] != "text":
            item["choices"] = [{"id": choice["id"], "text": choice["text"]} for choice in question["choices"]]
        shown.append(item)
    return shown


def _given(question: dict[str, Any], answer: Answer) -> list[str] | str:
    if question["kind"] == "text":
        if not isinstance(answer, str) or len(answer) > MAX_TEXT_ANSWER:
            raise BadAnswers(f"Question '{question['id']}' takes a text of at most {MAX_TEXT_ANSWER} characters.")
        return answer
    chosen = {answer} if isinstance(answer, str) else set(answer)
    known = [choice["id"] for choice in question["choices"]]
    if unknown := chosen - set(known):
        raise BadAnswers(f"Question '{question['id']}' has no choice {', '.join(sorted(map(repr, unknown)))}.")
    if question["kind"] == "single" and len(chosen) > 1:
        raise BadAnswers(f"Question '{question['id']}' takes one choice.")
    return [choice for choice in known if choice in chosen]


def _right(question: dict[str, Any], given: list[str] | str) -> bool:
    if question["kind"] == "text":
        return isinstance(given, str) and normalise_answer(given) in question["answers"]
    return set(given) == {choice["id"] for choice in question["choices"] if choice["correct"]}


def score(quiz: m.Quiz, answers: dict[str, Answer]) -> Scored:
    """The verdict of ``answers`` (question id → choice ids, or text); 422 for a question or choice unknown."""
    questions = {question["id"]: question for question in quiz.questions}
    if unknown := answers.keys() - questions.keys():
        raise BadAnswers(f"This quiz has no question {', '.join(sorted(map(repr, unknown)))}.")
    verdicts: list[Verdict] = []
    for question in quiz.questions:
        answer = answers.get(question["id"])
        given = _given(question, answer) if answer is not None else None
        verdicts.append(Verdict(question, given, given is not None and _right(question, given)))
    max_points = sum(question["points"] for question in quiz.questions)
    points = sum(verdict.question["points"] for verdict in verdicts if verdict.correct)
    fraction = points / max_points if max_points else 0.0
    return Scored(verdicts, points, max_points, round(fraction, 4), 100 * points >= quiz.pass_mark * max_points)


def feedback(verdict: Verdict) -> list[str]:
    """What the learner reads after submitting, for one question: the feedback of each choice they made (or of
    the correct choices, for a question left out), or the text question's."""
    question = verdict.question
    if question["kind"] == "text":
        return [question["feedback"]["correct" if verdict.correct else "incorrect"]]
    chosen = set(verdict.given or []) or {choice["id"] for choice in question["choices"] if choice["correct"]}
    return [choice["feedback"] for choice in question["choices"] if choice["id"] in chosen]


def correct_answer(question: dict[str, Any]) -> list[str]:
    """The right answer, shown after a submission: the correct choices' ids, or the accepted texts."""
    if question["kind"] == "text":
        return list(question["accepted"])
    return [choice["id"] for choice in question["choices"] if choice["correct"]]


def results(scored: Scored) -> list[dict[str, Any]]:
    """An attempt's verdict per question, as kept with it (the xAPI export reads these)."""
    return [
        {"question": verdict.question["id"], "correct": verdict.correct,
         "points": verdict.question["points"] if verdict.correct else 0, "max": verdict.question["points"]}
        for verdict in scored.verdicts
    ]  # fmt: skip
