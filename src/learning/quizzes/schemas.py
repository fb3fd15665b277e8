"""Request and response bodies of the quizzes API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

ChoiceIds = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=8)]
TextAnswer = Annotated[str, msgspec.Meta(max_length=200)]


class QuizRead(msgspec.Struct):
    """A quiz as the learner sees it before answering (no correct answer, no feedback)."""

    module: str
    title: str
    pass_mark: int  # percent of the points
    max_attempts: int
    required: bool  # completing the module asks for this quiz passed
    questions: list[dict[str, Any]]


class AttemptCreate(msgspec.Struct, forbid_unknown_fields=True):
    # question id → the choice ids (a list, or one id) or, for a short-text question, the text
    answers: Annotated[dict[Annotated[str, msgspec.Meta(max_length=60)], ChoiceIds | TextAnswer],
                       msgspec.Meta(max_length=20)]  # fmt: skip


class QuestionResult(msgspec.Struct):
    question: str
    correct: bool
    given: list[str] | str | None
    expected: list[str]  # the correct choice ids, or the accepted texts
    feedback: list[str]
    lesson: str  # the lesson to read again (its path on the site)


class AttemptRead(msgspec.Struct):
    number: int
    submitted_at: datetime
    score: float  # 0 to 1
    points: int
    max_points: int
    passed: bool
    results: list[QuestionResult]


class AttemptsRead(msgspec.Struct):
    attempts: list[AttemptRead]
    best_score: float | None
    passed: bool
    attempts_left: int
