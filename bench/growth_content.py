"""Content files for growth benchmarks: the shipped content plus synthetic modules of text lessons.

The synthetic lessons are made of the shipped lessons' own paragraphs, recombined, under titles that say
what they are (« Module de charge n° 12 », « Leçon de charge n° 12.3 ») and in modules left in draft: they
measure how the platform grows and never pass for real content. They are written only under a temporary
folder, never into the repository's ``modules/``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from bench.harness import ROOT as REPO_ROOT

LESSONS_PER_MODULE = 6
SHIPPED_FOLDERS = ("modules", "feeds", "media")


def shipped_paragraphs() -> list[str]:
    """The body paragraphs of the shipped lessons (headings and tables left out)."""
    paragraphs: list[str] = []
    for path in sorted((REPO_ROOT / "modules").glob("*/*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for block in body.split("\n\n"):
            text = block.strip()
            if text and not text.startswith(("#", "|", "<", "```")):
                paragraphs.append(text)
    return paragraphs


def build_content(root: Path, extra_lessons: int, *, seed: int = 20190124) -> int:
    """The shipped content under ``root`` plus ``extra_lessons`` synthetic text lessons (in draft modules);
    returns how many lessons ``root`` then holds."""
    shutil.rmtree(root, ignore_errors=True)
    for name in SHIPPED_FOLDERS:
        shutil.copytree(REPO_ROOT / name, root / name)
    shipped = len(list((root / "modules").glob("*/*.md")))
    paragraphs = shipped_paragraphs()
    chance = random.Random(seed)
    modules = -(-extra_lessons // LESSONS_PER_MODULE)
    made = 0
    for number in range(1, modules + 1):
        folder = root / "modules" / f"charge-{number:05d}"
        folder.mkdir()
        (folder / "module.yaml").write_text(
            f'title: "Module de charge n° {number}"\n'
            f"position: {100 + number}\n"
            'summary: "Module synthétique des bancs d’essai de croissance : des paragraphes du MOOC recombinés."\n'
            "description: |\n  Module synthétique, jamais publié : il mesure la croissance de la plateforme.\n"
            "status: draft\n",
            encoding="utf-8",
        )
        for index in range(1, LESSONS_PER_MODULE + 1):
            if made == extra_lessons:
                break
            body = "\n\n".join(chance.sample(paragraphs, k=min(8, len(paragraphs))))
            (folder / f"{index:02d}-lecon-{index}.md").write_text(
                "---\n"
                f'title: "Leçon de charge n° {number}.{index}"\n'
                "kind: text\n"
                'summary: "Paragraphes du MOOC recombinés pour mesurer la croissance."\n'
                "duration: 240\n"
                "completion: mark_done\n"
                "---\n"
                f"# Leçon de charge n° {number}.{index}\n\n{body}\n",
                encoding="utf-8",
            )
            made += 1
    return shipped + made
