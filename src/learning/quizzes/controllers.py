"""HTTP endpoints: a module's quiz (public, without its answers) and the learner's attempts at it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from learning.accounts.auth import CurrentUser
from learning.db import models as m
from learning.lib.guards import requires_json_body
from learning.quizzes.deps import provide_quiz_service
from learning.quizzes.schemas import AttemptCreate, AttemptRead, AttemptsRead, QuestionResult, QuizRead
from learning.quizzes.scoring import correct_answer, feedback, public_questions
from learning.quizzes.services import QuizService, Submitted


def quiz_read(module: m.Module, quiz: m.Quiz) -> QuizRead:
    return QuizRead(
        module=module.slug, title=quiz.title, pass_mark=quiz.pass_mark, max_attempts=quiz.max_attempts,
        required=quiz.required, questions=public_questions(quiz),
    )  # fmt: skip


def attempt_read(module_slug: str, submitted: Submitted) -> AttemptRead:
    """An attempt with, per question, the verdict, the right answer and the feedback (after submitting only)."""
    attempt, scored = submitted.attempt, submitted.scored
    results = [
        QuestionResult(
            question=verdict.question["id"], correct=verdict.correct, given=verdict.given,
            expected=correct_answer(verdict.question), feedback=feedback(verdict),
            lesson=f"/modules/{module_slug}/lecons/{verdict.question['lesson']}",
        )
        for verdict in scored.verdicts
    ]  # fmt: skip
    return AttemptRead(
        number=attempt.number, submitted_at=attempt.submitted_at, score=attempt.score, points=scored.points,
        max_points=scored.max_points, passed=attempt.passed, results=results,
    )  # fmt: skip


class QuizController(Controller):
    path = "/api/v1/modules/{module_slug:str}/quiz"
    tags = ["quizzes"]
    dependencies = {"quizzes": Provide(provide_quiz_service, sync_to_thread=False)}
    opt = {"exclude_from_auth": True}

    @get("/", operation_id="GetQuiz", opt={"problems": [404]})
    async def quiz(self, module_slug: FromPath[str], quizzes: NamedDependency[QuizService]) -> QuizRead:
        """A published module's quiz: its questions and choices, never which are correct (the server scores)."""
        return quiz_read(*await quizzes.quiz(module_slug))


class AttemptController(Controller):
    path = "/api/v1/me/quizzes/{module_slug:str}/attempts"
    tags = ["quizzes"]
    guards = [requires_json_body]
    dependencies = {"quizzes": Provide(provide_quiz_service, sync_to_thread=False)}

    @post("/", status_code=HTTP_201_CREATED, operation_id="SubmitQuizAttempt", opt={"problems": [404, 409, 422]})
    async def submit(
        self,
        module_slug: FromPath[str],
        data: JSONBody[AttemptCreate],
        request: Request[CurrentUser, Any, Any],
        quizzes: NamedDependency[QuizService],
    ) -> AttemptRead:
        """Answer the quiz (enrolled learners, within its attempts: 409 beyond); the answer says what was right,
        the right answers and the feedback, with the lesson to read again."""
        return attempt_read(module_slug, await quizzes.submit(request.user.id, module_slug, data.answers))

    @get("/", operation_id="ListQuizAttempts", opt={"problems": [404]})
    async def attempts(
        self, module_slug: FromPath[str], request: Request[CurrentUser, Any, Any], quizzes: NamedDependency[QuizService]
    ) -> AttemptsRead:
        """Your attempts at the quiz, the best score, whether you passed and the attempts left."""
        quiz, found = await quizzes.attempts(request.user.id, module_slug)
        return AttemptsRead(
            attempts=[attempt_read(module_slug, submitted) for submitted in found],
            best_score=max((submitted.attempt.score for submitted in found), default=None),
            passed=any(submitted.attempt.passed for submitted in found),
            attempts_left=max(0, quiz.max_attempts - len(found)),
        )
