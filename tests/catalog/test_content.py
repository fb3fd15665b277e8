"""Content files are validated before anything is written; each problem names its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from learning.catalog.content import ContentError, load_content
from tests.helpers.database import REPOSITORY

MODULE = """title: "Module d’essai"
position: 1
summary: "Un module."
status: published
tags: [essai]
"""

LESSON = """---
title: "Première leçon"
kind: text
duration: 120
completion: mark_done
---
# Bonjour

Un texte.
"""

VIDEO = """---
title: "Une vidéo"
kind: video
duration: 25
completion: coverage
media: mooc-video-01
---
Regardez.
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    module = tmp_path / "modules" / "essai"
    module.mkdir(parents=True)
    (module / "module.yaml").write_text(MODULE, encoding="utf-8")
    (module / "01-premiere.md").write_text(LESSON, encoding="utf-8")
    (module / "02-video.md").write_text(VIDEO, encoding="utf-8")
    (tmp_path / "media").mkdir()
    shutil.copy(REPOSITORY / "media" / "mooc-video-01.mp4", tmp_path / "media")
    return tmp_path


def _errors(root: Path) -> list[str]:
    with pytest.raises(ContentError) as raised:
        load_content(root)
    return [str(error) for error in raised.value.errors]


def test_valid_tree_loads(tree: Path) -> None:
    bundle = load_content(tree)
    assert [m.slug for m in bundle.modules] == ["essai"]
    assert [lesson.slug for lesson in bundle.modules[0].lessons] == ["premiere", "video"]
    assert bundle.modules[0].lessons[1].media_ref == "mooc-video-01.mp4"


def test_shipped_content_is_valid() -> None:
    bundle = load_content(REPOSITORY)
    published = [m for m in bundle.modules if m.publication.state == "published"]
    assert len(published) >= 4
    assert all(3 <= len(m.lessons) <= 6 for m in bundle.modules)
    sessions = bundle.series[0].sessions
    assert [s.scheduled_at.strftime("%Y-%m") for s in sessions] == [f"2019-{month:02d}" for month in range(1, 13)]
    assert {lesson.kind for m in bundle.modules for lesson in m.lessons} == {"text", "video", "audio"}


def test_bad_yaml_names_file_and_line(tree: Path) -> None:
    (tree / "modules" / "essai" / "module.yaml").write_text('title: "ok"\nposition: [1\nsummary: x\n', encoding="utf-8")
    errors = _errors(tree)
    assert len(errors) == 1
    assert "modules/essai/module.yaml:3: invalid YAML" in errors[0]


def test_bad_front_matter_names_file_and_line(tree: Path) -> None:
    (tree / "modules" / "essai" / "01-premiere.md").write_text("---\ntitle: [oops\n---\nTexte\n", encoding="utf-8")
    errors = _errors(tree)
    assert any("01-premiere.md:3: invalid YAML" in e for e in errors), errors


def test_missing_front_matter_is_reported(tree: Path) -> None:
    (tree / "modules" / "essai" / "01-premiere.md").write_text("# Pas d’en-tête\n", encoding="utf-8")
    assert any("01-premiere.md:1: expected YAML front matter" in e for e in _errors(tree))


def test_unknown_media_reference_names_the_line(tree: Path) -> None:
    path = tree / "modules" / "essai" / "02-video.md"
    path.write_text(VIDEO.replace("mooc-video-01", "video-absente"), encoding="utf-8")
    errors = _errors(tree)
    assert errors == [f"{path}:6: unknown media reference 'video-absente' (no such video file in media/)"]


def test_media_of_the_wrong_kind_is_refused(tree: Path) -> None:
    path = tree / "modules" / "essai" / "02-video.md"
    path.write_text(VIDEO.replace("kind: video", "kind: audio"), encoding="utf-8")
    assert any("unknown media reference 'mooc-video-01'" in e for e in _errors(tree))


def test_duplicate_slug_is_reported(tree: Path) -> None:
    (tree / "modules" / "essai" / "03-premiere.md").write_text(LESSON, encoding="utf-8")
    assert any("duplicate lesson slug 'premiere'" in e for e in _errors(tree))


def test_date_that_is_not_a_date_is_reported(tree: Path) -> None:
    path = tree / "modules" / "essai" / "module.yaml"
    path.write_text(
        MODULE.replace("status: published", "status: scheduled\npublish_at: demain matin"), encoding="utf-8"
    )
    assert _errors(tree) == [f"{path}:5: 'publish_at' is not a date and time: 'demain matin'"]


def test_date_without_offset_is_reported(tree: Path) -> None:
    path = tree / "modules" / "essai" / "module.yaml"
    path.write_text(
        MODULE.replace("status: published", "status: scheduled\npublish_at: 2027-01-15T09:00:00"), encoding="utf-8"
    )
    assert "needs a UTC offset" in _errors(tree)[0]


def test_missing_title_and_bad_kind_are_all_reported(tree: Path) -> None:
    path = tree / "modules" / "essai" / "01-premiere.md"
    path.write_text(
        LESSON.replace('title: "Première leçon"\n', "").replace("kind: text", "kind: podcast"), encoding="utf-8"
    )
    errors = _errors(tree)
    assert any("missing required key 'title'" in e for e in errors)
    assert any(f"{path}:2: 'kind' must be one of audio, text, video" in e for e in errors)


def test_gap_in_lesson_numbers_is_reported(tree: Path) -> None:
    (tree / "modules" / "essai" / "02-video.md").rename(tree / "modules" / "essai" / "04-video.md")
    assert any("numbered 01, 02, … without gaps" in e for e in _errors(tree))
