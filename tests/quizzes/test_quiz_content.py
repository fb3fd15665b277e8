"""A module's quiz.yaml is checked with the rest of the content: each problem names its file and its line, and the
shipped quizzes load."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning.catalog.content import ContentError, load_content
from tests.helpers.database import REPOSITORY
from tests.quizzes.conftest import QUIZ, SLUG, write_course


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_course(tmp_path)
    return tmp_path


def _errors(root: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        load_content(root)
    return [str(error) for error in raised.value.errors]


def _line(text: str, needle: str, after: int = 0) -> int:
    lines = text.splitlines()
    return next(number for number, line in enumerate(lines, 1) if number > after and needle in line)


def test_a_valid_quiz_loads_with_its_answers_normalised(root: Path) -> None:
    (module,) = load_content(root).modules
    assert module.quiz_required is True
    assert module.quiz is not None
    assert [question["id"] for question in module.quiz.questions] == ["annee", "acteurs", "partenaire"]
    assert module.quiz.questions[2]["answers"] == ["caissedesdepots"]
    assert module.quiz.questions[1]["points"] == 2


def test_each_problem_names_the_file_and_line_of_the_question(root: Path) -> None:
    broken = (
        QUIZ.replace('{id: a, text: "2006", feedback', '{id: a, text: "2006", correct: true, feedback')
        .replace("lesson: seconde\n    points: 2", "lesson: absente\n    points: 2")
        .replace('answers: ["Caisse des Dépôts"]', 'answers: ["Caisse des Dépôts"]\n    indice: "non"')
        .replace("pass_mark: 60", "pass_mark: 160")
    )
    path = root / "modules" / SLUG / "quiz.yaml"
    path.write_text(broken, encoding="utf-8")
    errors = _errors(root)
    assert f"{path}:{_line(broken, 'pass_mark')}: 'pass_mark' must be a whole number from 1 to 100" in errors
    first_choices = _line(broken, "choices:")
    assert f"{path}:{first_choices}: a single-choice question needs exactly one correct choice, not 2" in errors, errors
    assert f"{path}:{_line(broken, 'lesson: absente')}: 'lesson' names no lesson of this module: 'absente'" in errors
    assert f"{path}:{_line(broken, 'indice')}: unknown key 'indice'" in errors
    assert len(errors) == 4, errors


def test_a_required_quiz_needs_its_file(root: Path) -> None:
    (root / "modules" / SLUG / "quiz.yaml").unlink()
    module_file = root / "modules" / SLUG / "module.yaml"
    assert _errors(root) == [f"{module_file}:5: 'quiz_required' needs a quiz.yaml in the module's folder"]


def test_every_published_module_of_the_course_has_a_quiz_of_four_to_six_questions() -> None:
    bundle = load_content(REPOSITORY)
    published = [module for module in bundle.modules if module.publication.state == "published"]
    assert published
    for module in published:
        assert module.quiz is not None, module.slug
        assert 4 <= len(module.quiz.questions) <= 6, module.slug
        lessons = {lesson.slug for lesson in module.lessons}
        assert all(question["lesson"] in lessons for question in module.quiz.questions), module.slug
