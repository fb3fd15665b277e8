"""A module's ``quiz.yaml``: its questions checked one by one, each problem recorded at its own line.

title: "Vérifier ses acquis"
pass_mark: 60            # percent of the points
attempts: 3
questions:
  - id: hypothese-2006
    kind: single         # single | multiple | text
    prompt: "…"
    lesson: pourquoi-faire-alliance    # a lesson of the module: where the feedback sends the learner
    choices:             # single: exactly one correct; multiple: at least one correct and one not
      - {id: a, text: "…", correct: true, feedback: "…"}
      - {id: b, text: "…", feedback: "…"}
  - id: annee
    kind: text
    prompt: "…"
    lesson: …
    answers: ["2008"]    # compared once normalised (case, accents, spaces and punctuation aside)
    feedback: {correct: "…", incorrect: "…"}
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from learning.catalog.content.documents import SourceError, digest

ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
KINDS = ("single", "multiple", "text")
MAX_QUESTIONS = 20
MAX_CHOICES = 8
MAX_TEXT = 1000


@dataclass(frozen=True, slots=True)
class QuizSource:
    title: str
    pass_mark: int
    attempts: int
    questions: list[dict[str, Any]] = field(default_factory=list)  # as stored: see ``_question``
    digest: str = ""


def normalise_answer(text: str) -> str:
    """A short-text answer as compared: lower case, without accents, spaces or punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum())


class _Lines:
    """The line of every node of the YAML tree, by its path (keys and list indexes)."""

    def __init__(self, node: yaml.Node) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)  # a key's own line, for a value under it
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, str(key.value))] = key.start_mark.line + 1
                self._walk(value, (*path, str(key.value)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def at(self, path: tuple[Any, ...]) -> int:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)


class _Checker:
    def __init__(self, path: Path, lines: _Lines, errors: list[SourceError], lessons: set[str]) -> None:
        self.path, self.lines, self.errors, self.lessons = path, lines, errors, lessons
        self.failed = False

    def error(self, where: tuple[Any, ...], message: str) -> None:
        self.failed = True
        self.errors.append(SourceError(self.path, self.lines.at(where), message))

    def keys(self, value: dict[str, Any], where: tuple[Any, ...], allowed: set[str], required: set[str]) -> None:
        for key in value:
            if key not in allowed:
                self.error((*where, str(key)), f"unknown key '{key}'")
        for key in sorted(required - value.keys()):
            self.error(where, f"missing required key '{key}'")

    def text(self, value: Any, where: tuple[Any, ...], name: str, max_length: int = MAX_TEXT) -> str:
        if not isinstance(value, str) or not value.strip():
            self.error(where, f"'{name}' must be a non-empty text")
            return ""
        if len(value) > max_length:
            self.error(where, f"'{name}' is longer than {max_length} characters")
        return value.strip()

    def whole(self, value: Any, where: tuple[Any, ...], name: str, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            self.error(where, f"'{name}' must be a whole number from {low} to {high}")
            return low
        return value

    def ident(self, value: Any, where: tuple[Any, ...], seen: set[str], max_length: int) -> str:
        if not isinstance(value, str) or not ID.match(value) or len(value) > max_length:
            self.error(where, f"'id' must be lower-case letters, digits and hyphens (at most {max_length})")
            return ""
        if value in seen:
            self.error(where, f"id '{value}' is used twice")
        seen.add(value)
        return value

    def quiz(self, value: Any) -> QuizSource | None:
        if not isinstance(value, dict):
            self.error((), "expected a mapping of keys to values")
            return None
        self.keys(value, (), {"title", "pass_mark", "attempts", "questions"}, {"pass_mark", "attempts", "questions"})
        title = self.text(value.get("title", "Vérifier ses acquis"), ("title",), "title", 300)
        pass_mark = self.whole(value.get("pass_mark"), ("pass_mark",), "pass_mark", 1, 100)
        attempts = self.whole(value.get("attempts"), ("attempts",), "attempts", 1, 20)
        raw = value.get("questions")
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_QUESTIONS:
            self.error(("questions",), f"'questions' must be a list of 1 to {MAX_QUESTIONS} questions")
            return None
        seen: set[str] = set()
        questions = [self._question(item, ("questions", index), seen) for index, item in enumerate(raw)]
        if self.failed:
            return None
        stored = [question for question in questions if question is not None]
        return QuizSource(
            title=title, pass_mark=pass_mark, attempts=attempts, questions=stored,
            digest=digest(repr(stored).encode()),
        )  # fmt: skip

    def _question(self, value: Any, where: tuple[Any, ...], seen: set[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.error(where, "a question must be a mapping (id, kind, prompt, lesson…)")
            return None
        kind = value.get("kind")
        if kind not in KINDS:
            self.error((*where, "kind"), f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
            return None
        specific = {"answers", "feedback"} if kind == "text" else {"choices"}
        base = {"id", "kind", "prompt", "lesson", "points"}
        self.keys(value, where, base | specific, {"id", "prompt", "lesson"} | specific)
        lesson = value.get("lesson")
        if isinstance(lesson, str) and lesson not in self.lessons:
            self.error((*where, "lesson"), f"'lesson' names no lesson of this module: '{lesson}'")
        question: dict[str, Any] = {
            "id": self.ident(value.get("id"), (*where, "id"), seen, 60),
            "kind": kind,
            "prompt": self.text(value.get("prompt"), (*where, "prompt"), "prompt", 500),
            "lesson": lesson if isinstance(lesson, str) else "",
            "points": self.whole(value.get("points", 1), (*where, "points"), "points", 1, 10),
        }
        if kind == "text":
            question.update(self._text_answers(value, where))
        else:
            question["choices"] = self._choices(value.get("choices"), (*where, "choices"), kind)
        return question

    def _text_answers(self, value: dict[str, Any], where: tuple[Any, ...]) -> dict[str, Any]:
        answers = value.get("answers")
        if not isinstance(answers, list) or not answers:
            self.error((*where, "answers"), "'answers' must be a list of the accepted answers")
            answers = []
        accepted = [self.text(item, (*where, "answers", index), "answers", 200) for index, item in enumerate(answers)]
        if any(text and not normalise_answer(text) for text in accepted):
            self.error((*where, "answers"), "an accepted answer has no letter or digit to compare")
        feedback = value.get("feedback")
        if not isinstance(feedback, dict):
            self.error((*where, "feedback"), "'feedback' must give the text for 'correct' and for 'incorrect'")
            feedback = {}
        else:
            self.keys(feedback, (*where, "feedback"), {"correct", "incorrect"}, {"correct", "incorrect"})
        return {
            "answers": [normalise_answer(text) for text in accepted],  # as compared
            "accepted": accepted,  # as written, shown after a submission
            "feedback": {
                verdict: self.text(feedback.get(verdict), (*where, "feedback", verdict), verdict)
                for verdict in ("correct", "incorrect")
            },
        }

    def _choices(self, raw: Any, where: tuple[Any, ...], kind: str) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
            self.error(where, f"'choices' must be a list of 2 to {MAX_CHOICES} choices")
            return []
        seen: set[str] = set()
        choices: list[dict[str, Any]] = []
        for index, item in enumerate(raw):
            at = (*where, index)
            if not isinstance(item, dict):
                self.error(at, "a choice must be a mapping (id, text, feedback, and correct: true for a right one)")
                continue
            self.keys(item, at, {"id", "text", "correct", "feedback"}, {"id", "text", "feedback"})
            correct = item.get("correct", False)
            if not isinstance(correct, bool):
                self.error((*at, "correct"), "'correct' must be true or false")
            choices.append({
                "id": self.ident(item.get("id"), (*at, "id"), seen, 40),
                "text": self.text(item.get("text"), (*at, "text"), "text", 300),
                "correct": correct is True,
                "feedback": self.text(item.get("feedback"), (*at, "feedback"), "feedback"),
            })  # fmt: skip
        right = sum(1 for choice in choices if choice["correct"])
        if kind == "single" and right != 1 and len(choices) == len(raw):
            self.error(where, f"a single-choice question needs exactly one correct choice, not {right}")
        if kind == "multiple" and not 0 < right < len(choices) and len(choices) == len(raw):
            self.error(where, "a multiple-choice question needs at least one correct and one wrong choice")
        return choices


def load_quiz(path: Path, text: str, lessons: set[str], errors: list[SourceError]) -> QuizSource | None:
    """``path``'s quiz, checked against the module's ``lessons`` (slugs); None once its problems are recorded."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        errors.append(SourceError(path, mark.line + 1 if mark else None, f"invalid YAML: {exc}"))
        return None
    finally:
        loader.dispose()
    if node is None:
        errors.append(SourceError(path, 1, "expected a mapping of keys to values"))
        return None
    return _Checker(path, _Lines(node), errors, lessons).quiz(value)
