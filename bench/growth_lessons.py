"""Growth data: N extra lessons made of the shipped lessons' own paragraphs, inserted in bulk (COPY).

Used by the search tests (a few hundred lessons matching a common word) and by ``bench.search_growth``
(the catalog at 10× and 100× its size). Every paragraph and summary is taken verbatim from a lesson of the
shipped content, recombined in a shuffled order; nothing is invented. Titles and slugs say the lessons are
synthetic (« Leçon de charge n° 123 », ``charge-00123``); the lessons are published, ``origin = admin`` so a
content sync leaves them alone, and spread over the shipped modules. ``remove_lessons`` takes them out again.
"""

from __future__ import annotations

import random
import re
import uuid

import asyncpg

from learning.catalog.markdown import render_markdown

SLUG_PREFIX = "charge-"
_PARAGRAPHS = re.compile(r"\n\s*\n")
_COLUMNS = (
    "id", "module_id", "slug", "position", "title", "summary", "kind", "body_md", "body_html",
    "duration_seconds", "completion_rule", "completion_threshold", "tags", "publication", "origin",
)  # fmt: skip


def _libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _paragraphs(body: str) -> list[str]:
    # Headings are left out: out of their place, a heading would announce a section that does not follow.
    return [p.strip() for p in _PARAGRAPHS.split(body) if p.strip() and not p.lstrip().startswith("#")]


async def add_lessons(database_url: str, count: int, *, seed: int = 0, start: int = 1) -> int:
    """Insert ``count`` published lessons recombined from the published content lessons; return how many.

    Only lessons of published modules are drawn from, so no text of a draft or scheduled module shows early.

    Lesson ``i`` (from ``start``) is « Leçon de charge n° i », slug ``charge-<i>``, in one of the shipped
    modules, its body 4 to 8 paragraphs drawn from the shipped lessons. The same ``seed`` gives the same text.
    """
    if count <= 0:
        return 0
    connection = await asyncpg.connect(_libpq(database_url))
    try:
        sources = await connection.fetch(
            "SELECT l.module_id, l.summary, l.body_md, l.kind::text AS kind, l.completion_rule::text AS rule "
            "FROM lesson l JOIN module ON module.id = l.module_id WHERE l.origin = 'content' "
            "AND l.publication = 'published' AND module.publication = 'published' ORDER BY l.module_id, l.position"
        )
        if not sources:
            raise RuntimeError("no published content lesson to recombine: sync the content first")
        pool = [paragraph for row in sources for paragraph in _paragraphs(row["body_md"])]
        modules = sorted({row["module_id"] for row in sources})
        rng = random.Random(seed)
        records: list[tuple[object, ...]] = []
        for number in range(start, start + count):
            source = rng.choice(sources)
            body = "\n\n".join(rng.sample(pool, k=min(len(pool), rng.randint(4, 8))))
            records.append(
                (
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    modules[number % len(modules)],
                    f"{SLUG_PREFIX}{number:05d}",
                    10_000 + number,
                    f"Leçon de charge n° {number}",
                    source["summary"],
                    source["kind"],
                    body,
                    render_markdown(body),
                    0,
                    source["rule"],
                    0.9,
                    [],
                    "published",
                    "admin",
                )
            )
        await connection.copy_records_to_table("lesson", records=records, columns=_COLUMNS)
        await connection.execute("ANALYZE lesson")
        return len(records)
    finally:
        await connection.close()


async def remove_lessons(database_url: str) -> int:
    """Delete the lessons ``add_lessons`` inserted; return how many."""
    connection = await asyncpg.connect(_libpq(database_url))
    try:
        status = await connection.execute(
            "DELETE FROM lesson WHERE origin = 'admin' AND slug LIKE $1", SLUG_PREFIX + "%"
        )
        await connection.execute("ANALYZE lesson")
        return int(status.split()[-1])
    finally:
        await connection.close()
