"""Dependency providers of the quizzes domain."""

from __future__ import annotations

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.quizzes.repositories import QuizRepository
from learning.quizzes.services import QuizService


def provide_quiz_service(db_session: NamedDependency[AsyncSession]) -> QuizService:
    return QuizService(QuizRepository(db_session))
