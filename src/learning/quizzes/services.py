"""Quiz rules: the quiz without its answers, an attempt scored and kept (enrolled learners, within the number of
attempts), past attempts and the best score."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, NotFound
from learning.quizzes.repositories import QuizRepository
from learning.quizzes.scoring import Answer, Scored, results, score


class QuizMissing(NotFound):
    title = "Quiz not found"


class NotEnrolledInModule(Conflict):
    title = "Not enrolled"


class NoAttemptLeft(Conflict):
    title = "No attempt left"


@dataclass(frozen=True, slots=True)
class Submitted:
    attempt: m.QuizAttempt
    scored: Scored


class QuizService:
    def __init__(self, quizzes: QuizRepository) -> None:
        self.quizzes = quizzes

    async def quiz(self, module_slug: str) -> tuple[m.Module, m.Quiz]:
        found = await self.quizzes.quiz(module_slug)
        if found is None:
            raise QuizMissing(f"No quiz for a published module '{module_slug}'.")
        return found

    async def find(self, module_slug: str) -> m.Quiz | None:
        """A published module's quiz, if it has one."""
        found = await self.quizzes.quiz(module_slug)
        return found[1] if found else None

    async def submit(self, user_id: uuid.UUID, module_slug: str, answers: dict[str, Answer]) -> Submitted:
        """Score ``answers`` and keep the attempt (409 when not enrolled or with no attempt left)."""
        module, quiz = await self.quiz(module_slug)
        scored = score(quiz, answers)  # 422 before anything is counted
        enrollment = await self.quizzes.lock_enrollment(user_id, module.id)
        if enrollment is None or enrollment.status is not m.EnrollmentStatus.ACTIVE:
            raise NotEnrolledInModule(f"Enroll in '{module_slug}' to answer its quiz.")
        done = await self.quizzes.count(user_id, module.id)
        if done >= quiz.max_attempts:
            raise NoAttemptLeft(f"All {quiz.max_attempts} attempts at this quiz are used.")
        stored = {verdict.question["id"]: verdict.given for verdict in scored.verdicts if verdict.given is not None}
        attempt = m.QuizAttempt(
            id=uuid.uuid4(), user_id=user_id, module_id=module.id, number=done + 1, submitted_at=utcnow(),
            answers=stored, results=results(scored), score=scored.score, passed=scored.passed,
            quiz_digest=quiz.digest,
        )  # fmt: skip
        await self.quizzes.add(attempt)
        return Submitted(attempt, scored)

    async def mine(self, user_id: uuid.UUID) -> list[tuple[str, m.QuizAttempt]]:
        """Every attempt of the learner at any quiz, with the module's slug (the account export)."""
        return await self.quizzes.all_attempts(user_id)

    async def attempts(self, user_id: uuid.UUID, module_slug: str) -> tuple[m.Quiz, list[Submitted]]:
        """The learner's attempts, each scored again against the quiz as it is (its verdicts and feedback)."""
        module, quiz = await self.quiz(module_slug)
        found = await self.quizzes.attempts(user_id, module.id)
        return quiz, [Submitted(attempt, score(quiz, _known(quiz, attempt.answers))) for attempt in found]


def _known(quiz: m.Quiz, answers: dict[str, Answer]) -> dict[str, Answer]:
    """An attempt's answers to the questions and choices the quiz still has (content may change since)."""
    questions = {question["id"]: question for question in quiz.questions}
    kept: dict[str, Answer] = {}
    for key, answer in answers.items():
        question = questions.get(key)
        if question is None:
            continue
        if question["kind"] == "text":
            kept[key] = answer
        else:
            ids = {choice["id"] for choice in question["choices"]}
            kept[key] = [choice for choice in ([answer] if isinstance(answer, str) else answer) if choice in ids]
    return kept
