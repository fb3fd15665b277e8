"""A small course with a quiz of every kind, synced into the test database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account, register
from tests.helpers.catalog import sync
from tests.helpers.database import sql

SLUG = "essai-quiz"
MODULE = """title: "Module d’essai"
position: 1
summary: "Un module pour éprouver les quiz."
status: published
quiz_required: true
"""
LESSON = """---
title: "{title}"
kind: text
duration: 60
completion: mark_done
---
# {title}

Un texte.
"""
QUIZ = """title: "Vérifier ses acquis"
pass_mark: 60
attempts: 3
questions:
  - id: annee
    kind: single
    prompt: "En quelle année ?"
    lesson: premiere
    choices:
      - {id: a, text: "2006", feedback: "Non : c’est l’année de la fondation."}
      - {id: b, text: "2008", correct: true, feedback: "Oui, en 2008 (SECRET-RETOUR-B)."}
      - {id: c, text: "2010", feedback: "Non, plus tôt."}
  - id: acteurs
    kind: multiple
    prompt: "Lesquels sont des acteurs du territoire ?"
    lesson: seconde
    points: 2
    choices:
      - {id: asso, text: "Les associations", correct: true, feedback: "Oui (SECRET-RETOUR-ASSO)."}
      - {id: elus, text: "Les collectivités", correct: true, feedback: "Oui."}
      - {id: lune, text: "La Lune", feedback: "Non."}
  - id: partenaire
    kind: text
    prompt: "Avec qui l’Observatoire est-il créé ?"
    lesson: seconde
    answers: ["Caisse des Dépôts"]
    feedback:
      correct: "Exact (SECRET-RETOUR-TEXTE)."
      incorrect: "C’était la Caisse des Dépôts."
"""
# What no answer may hold before a submission: the feedback and the accepted text (written or as compared).
SECRETS = ("SECRET-RETOUR", "Caisse des Dépôts", "caissedesdepots")
# Nor, in the quiz's JSON, a key that would say which choice is right.
SECRET_KEYS = ('"correct"', '"feedback"', '"accepted"', '"answers"', '"expected"')


def write_course(root: Path) -> None:
    module = root / "modules" / SLUG
    module.mkdir(parents=True)
    (module / "module.yaml").write_text(MODULE, encoding="utf-8")
    (module / "01-premiere.md").write_text(LESSON.format(title="Première"), encoding="utf-8")
    (module / "02-seconde.md").write_text(LESSON.format(title="Seconde"), encoding="utf-8")
    (module / "quiz.yaml").write_text(QUIZ, encoding="utf-8")
    (root / "media").mkdir()


@pytest.fixture
def course(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The course synced; its lessons' ids."""
    root = tmp_path / "course"
    write_course(root)
    sync(settings, root)
    query = "SELECT l.slug, l.id FROM lesson l JOIN module m ON m.id = l.module_id WHERE m.slug = $1"
    rows = sql(settings.require_database_url(), query, SLUG)
    return {row["slug"]: str(row["id"]) for row in rows}


@pytest.fixture
def enrolled(client: TestClient[Any], course: dict[str, str]) -> Account:
    account = register(client, f"quiz-{uuid.uuid4().hex[:8]}@example.org")
    assert client.post("/api/v1/me/enrollments", json={"module": SLUG}, headers=account.headers).status_code == 201
    return account


def complete_lessons(client: TestClient[Any], account: Account, course: dict[str, str]) -> None:
    """Mark every lesson of the course done, as the lesson pages do."""
    now = datetime.now(UTC).isoformat()
    events = [{"id": str(uuid.uuid4()), "type": "completed", "lesson_id": lesson, "client_time": now}
              for lesson in course.values()]  # fmt: skip
    sent = client.post("/api/v1/me/progress/events", json={"events": events}, headers=account.headers)
    assert sent.status_code == 200, sent.text
