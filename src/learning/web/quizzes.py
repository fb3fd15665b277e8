"""« Vérifier ses acquis »: a module's quiz as a form (no JavaScript needed) and an attempt's result, with the
feedback and the lessons to read again. The server scores; the page never holds an answer before a submission."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Template

from learning.accounts.auth import CurrentUser
from learning.quizzes.deps import provide_quiz_service
from learning.quizzes.scoring import MAX_TEXT_ANSWER, Answer, BadAnswers, feedback, public_questions
from learning.quizzes.services import NoAttemptLeft, NotEnrolledInModule, QuizService
from learning.web.deps import provide_viewer
from learning.web.security import requires_signed_in
from learning.web.templating import Flash, page
from learning.web.views import page_route

FIELD = "q-"  # a question's form field: q-<question id>, one value per choice ticked, or the text


def _answers(form: Any, texts: set[str]) -> dict[str, Answer]:
    """The form's answers: question id → the choices ticked, or the text typed (``texts``: the text questions'
    ids); a question left blank is left out."""
    answers: dict[str, Answer] = {}
    for key in form:
        if key.startswith(FIELD):
            question, values = key[len(FIELD) :], [str(value) for value in form.getall(key)]
            answer: Answer = values[0][:MAX_TEXT_ANSWER].strip() if question in texts else values
            if answer:
                answers[question] = answer
    return answers


class QuizPages(Controller):
    dependencies = {
        "quizzes": Provide(provide_quiz_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    async def _form(
        self, slug: str, viewer: CurrentUser | None, quizzes: QuizService, *, status_code: int = 200,
        flash: Flash | None = None,
    ) -> Template:  # fmt: skip
        module, quiz = await quizzes.quiz(slug)
        past = (await quizzes.attempts(viewer.id, slug))[1] if viewer is not None else []
        return page(
            "quiz.html", viewer, status_code=status_code, flash=flash, module=module, quiz=quiz,
            questions=public_questions(quiz), past=past, left=max(0, quiz.max_attempts - len(past)),
        )  # fmt: skip

    @page_route("/modules/{slug:str}/quiz", name="web:quiz")
    async def quiz(
        self,
        slug: FromPath[str],
        quizzes: NamedDependency[QuizService],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:
        """The questions (never their answers), the learner's past attempts and the attempts left."""
        return await self._form(slug, viewer, quizzes)

    @post("/modules/{slug:str}/quiz", name="web:quiz-post", guards=[requires_signed_in])
    async def submit(
        self,
        slug: FromPath[str],
        request: Request[Any, Any, Any],
        quizzes: NamedDependency[QuizService],
        viewer: NamedDependency[CurrentUser],
    ) -> Template:
        """Score the form's answers and show, per question, what was right, the feedback and the lesson."""
        form = await request.form()
        module, quiz = await quizzes.quiz(slug)
        texts = {question["id"] for question in quiz.questions if question["kind"] == "text"}
        try:
            submitted = await quizzes.submit(viewer.id, slug, _answers(form, texts))
        except NotEnrolledInModule:
            flash = Flash("Inscrivez-vous d’abord au module pour répondre au quiz.", "error")
            return await self._form(slug, viewer, quizzes, status_code=409, flash=flash)
        except NoAttemptLeft:
            flash = Flash("Vous avez utilisé toutes vos tentatives pour ce quiz.", "error")
            return await self._form(slug, viewer, quizzes, status_code=409, flash=flash)
        except BadAnswers:
            flash = Flash("Ces réponses ne correspondent pas aux questions du quiz : rechargez la page.", "error")
            return await self._form(slug, viewer, quizzes, status_code=400, flash=flash)
        verdicts = [(verdict, feedback(verdict)) for verdict in submitted.scored.verdicts]
        left = max(0, quiz.max_attempts - submitted.attempt.number)
        return page(
            "quiz_result.html", viewer, module=module, quiz=quiz, attempt=submitted.attempt,
            scored=submitted.scored, verdicts=verdicts, left=left,
        )  # fmt: skip
