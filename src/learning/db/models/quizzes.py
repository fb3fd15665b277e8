"""Self-assessment: a module's quiz (from its ``quiz.yaml``, kept whole as synced) and the learners' attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from learning.db.base import Base, UUIDPrimaryKey


class Quiz(Base):
    """A module's quiz as its content file says (questions, choices, feedback and the correct answers, which
    the API never shows before a submission)."""

    __tablename__ = "quiz"

    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    pass_mark: Mapped[int] = mapped_column(Integer, nullable=False)  # percent of the points
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)  # for the module's completion
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)  # of the questions: an attempt names its version


class QuizAttempt(UUIDPrimaryKey, Base):
    """One submission of a learner: their answers, as sent, and the score the server gave them."""

    __tablename__ = "quiz_attempt"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("module.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2…: the learner's attempts at this quiz
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)  # question id → choice ids or text
    # Per question, in the quiz's order: {"question": id, "correct": bool, "points": earned, "max": points}
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)  # 0 to 1
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    quiz_digest: Mapped[str] = mapped_column(String(64), nullable=False)

    __table_args__ = (Index("ix_quiz_attempt_user_module_number", "user_id", "module_id", "number", unique=True),)
