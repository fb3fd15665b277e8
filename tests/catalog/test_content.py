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


SERIES = """title: "Un cycle"
year: 2019
"""

SESSION = """---
title: "Lancement"
scheduled_at: 2019-01-24T11:00:00+01:00
status: upcoming
speakers:
  - name: "Une animatrice"
    role: host
---
Au programme.
"""


@pytest.fixture
def session(tree: Path) -> Path:
    """A webinar series with one session, next to the module of ``tree``; the session's path."""
    folder = tree / "feeds" / "webinars" / "cycle"
    folder.mkdir(parents=True)
    (folder / "series.yaml").write_text(SERIES, encoding="utf-8")
    path = folder / "2019-01-lancement.md"
    path.write_text(SESSION, encoding="utf-8")
    return path


def test_unknown_key_in_front_matter_names_its_line(tree: Path) -> None:
    path = tree / "modules" / "essai" / "01-premiere.md"
    path.write_text(LESSON.replace("kind: text\n", "kind: text\ncouleur: bleu\n"), encoding="utf-8")
    assert _errors(tree) == [f"{path}:4: unknown key 'couleur'"]


def test_wrong_type_in_front_matter_names_its_line(tree: Path) -> None:
    path = tree / "modules" / "essai" / "02-video.md"
    path.write_text(VIDEO.replace("duration: 25", "duration: longue"), encoding="utf-8")
    assert _errors(tree) == [f"{path}:4: 'duration' must be a whole number ≥ 0"]


def test_every_problem_of_a_file_is_reported_in_one_run(tree: Path) -> None:
    path = tree / "modules" / "essai" / "02-video.md"
    text = VIDEO.replace("Une vidéo", "v" * 301).replace("kind: video\n", "").replace("duration: 25", "duration: -1")
    path.write_text(text.replace("media:", "couleur: bleu\nmedia:"), encoding="utf-8")
    assert sorted(_errors(tree)) == [
        f"{path}:2: 'title' is longer than 300 characters",
        f"{path}:2: missing required key 'kind'",
        f"{path}:3: 'duration' must be a whole number ≥ 0",
        f"{path}:5: unknown key 'couleur'",
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ('title: "Module d’essai"', 'title: "   "', 1, "'title' must be a non-empty text"),
        ('summary: "Un module."', "summary: " + "s" * 2001, 3, "'summary' is longer than 2000 characters"),
        ("position: 1", "position: true", 2, "'position' must be a whole number ≥ 1"),
        ("position: 1", "position: 1.0", 2, "'position' must be a whole number ≥ 1"),
        ("tags: [essai]", "tags: [Essai]", 5, "'tags' must be a list of lowercase slugs (letters, digits, hyphens)"),
        (
            "status: published",
            "status: [draft]",
            4,
            "'status' must be one of draft, published, scheduled, not ['draft']",
        ),
        (
            "status: published",
            "status: scheduled\npublish_at: 2027-01-15",
            5,
            "'publish_at' needs a time and a UTC offset, not only a date",
        ),
        (
            "status: published",
            'status: scheduled\npublish_at: "2027-01-15T09:00:00+01:00"',
            5,
            "'publish_at' is not a date and time: '2027-01-15T09:00:00+01:00'",
        ),
        ("status: published", "status: scheduled", 1, "missing required key 'publish_at'"),
        ("tags: [essai]", "tags: [essai]\n1: un", 6, "unknown key '1'"),
    ],
)
def test_wrong_value_in_module_yaml_names_its_line(tree: Path, old: str, new: str, line: int, message: str) -> None:
    path = tree / "modules" / "essai" / "module.yaml"
    path.write_text(MODULE.replace(old, new), encoding="utf-8")
    assert _errors(tree) == [f"{path}:{line}: {message}"]


def test_empty_key_counts_as_absent(tree: Path) -> None:
    path = tree / "modules" / "essai" / "module.yaml"
    path.write_text(MODULE.replace("status: published", "status:\nsummary:"), encoding="utf-8")
    module = load_content(tree).modules[0]
    assert (module.publication.state, module.summary) == ("published", "")


def test_video_lesson_with_an_empty_media_is_reported(tree: Path) -> None:
    path = tree / "modules" / "essai" / "02-video.md"
    path.write_text(VIDEO.replace("media: mooc-video-01", "media:"), encoding="utf-8")
    assert _errors(tree) == [f"{path}:2: a video lesson needs a 'media' reference"]


def test_session_loads_with_its_speakers(session: Path) -> None:
    series = load_content(session.parents[3]).series[0]
    assert (series.slug, series.year) == ("cycle", 2019)
    assert series.sessions[0].speakers == [{"name": "Une animatrice", "organisation": "", "role": "host"}]


SPEAKER_PROBLEM = "each speaker needs a 'name', an 'organisation' and a role host|guest"
SPEAKERS = 'speakers:\n  - name: "Une animatrice"\n    role: host'


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        ("role: host", "role: boss", 5, SPEAKER_PROBLEM),
        ('- name: "Une animatrice"', "- nom: x", 5, SPEAKER_PROBLEM),
        (SPEAKERS, "speakers: personne", 5, "'speakers' must be a list"),
        (
            "scheduled_at: 2019-01-24T11:00:00+01:00",
            "scheduled_at: 2019-01-24T11:00:00",
            3,
            "'scheduled_at' needs a UTC offset, e.g. 2019-01-24T11:00:00+01:00",
        ),
        ("status: upcoming", "status: replay_available", 4, "status 'replay_available' needs a 'replay' reference"),
    ],
)
def test_wrong_value_in_a_session_names_its_line(session: Path, old: str, new: str, line: int, message: str) -> None:
    session.write_text(SESSION.replace(old, new), encoding="utf-8")
    assert _errors(session.parents[3]) == [f"{session}:{line}: {message}"]
