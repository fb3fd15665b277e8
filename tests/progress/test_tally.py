"""The admin figures come from a tally the database keeps as learners progress (the progress-tally migration),
not from aggregating every enrollment and progress row (1.1 s at 100k learners): the same figures, through
every way the rows change, and a read that touches neither table.

The oracle is the aggregate the figures were computed with before (``bench.analytics_growth.BEFORE``, the
benchmark's baseline too), run on the same rows.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.analytics_growth import BEFORE as ORACLE
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from learning.progress.repositories import ProgressRepository, TallyRepository
from tests.helpers.catalog import sync
from tests.helpers.cli import clean_environment, run_learning
from tests.helpers.database import make_settings, plan_of, sql, statements_sent, truncate_all


@pytest.fixture(scope="module")
def url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    truncate_all(database_url)
    sync(make_settings(database_url, tmp_path_factory.mktemp("tally") / "var"))
    yield database_url
    truncate_all(database_url)


async def _figures(url: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session:
            found = await ProgressRepository(session, engine).module_figures()
    finally:
        await engine.dispose()
    return [(f.module.slug, f.lessons, f.enrolled, f.started, f.completed, f.median_done) for f in found]


async def _fold(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with AsyncSession(engine) as session, session.begin():
            return await TallyRepository(session).fold()
    finally:
        await engine.dispose()


def _oracle(url: str) -> list[tuple[Any, ...]]:
    return [
        (r["slug"], r["lessons"], r["enrolled"], r["started"], r["completed"],
         None if r["median"] is None else float(r["median"]))
        for r in sql(url, ORACLE)
    ]  # fmt: skip


class World:
    """Learners, enrollments and progress changed in every way the application (or an admin) changes them."""

    def __init__(self, url: str, seed: int) -> None:
        self.url = url
        self.rng = random.Random(seed)
        self.modules = [r["id"] for r in sql(url, "SELECT id FROM module")]
        # A few lessons only, so that learners come back to the same ones (a touch, then its completion).
        rows = sql(url, "SELECT id, module_id FROM lesson WHERE publication = 'published' ORDER BY position, slug")
        self.lessons = {r["id"]: r["module_id"] for r in self.rng.sample(rows, 6)}
        self.learners: list[uuid.UUID] = []

    def learner(self) -> None:
        [row] = sql(
            self.url,
            "INSERT INTO user_account (id, email, password_hash, role, token_version)"
            " VALUES (gen_random_uuid(), $1, 'x', 'learner', 0) RETURNING id",
            f"tally-{uuid.uuid4().hex}@example.org",
        )
        self.learners.append(row["id"])

    def step(self) -> str:
        rng, learner = self.rng, self.rng.choice(self.learners)
        lesson = rng.choice(list(self.lessons))
        action = rng.choice(
            ["enroll"] * 6 + ["touch"] * 8 + ["complete"] * 8 + ["withdraw", "forget", "hide", "show", "move", "leave"]
        )
        if action == "enroll":
            sql(self.url, "INSERT INTO enrollment (id, user_id, module_id, registration, status) VALUES"
                " (gen_random_uuid(), $1, $2, gen_random_uuid(), 'active') ON CONFLICT (user_id, module_id)"
                " DO UPDATE SET status = 'active', withdrawn_at = NULL", learner, rng.choice(self.modules))  # fmt: skip
        elif action in {"touch", "complete"}:
            sql(self.url, "INSERT INTO lesson_progress (user_id, lesson_id, watched_seconds, completed, segments)"
                " VALUES ($1, $2, 1, $3, '{}') ON CONFLICT (user_id, lesson_id)"
                " DO UPDATE SET completed = lesson_progress.completed OR excluded.completed,"
                " watched_seconds = lesson_progress.watched_seconds + 1",
                learner, lesson, action == "complete")  # fmt: skip
        elif action == "withdraw":
            sql(self.url, "UPDATE enrollment SET status = 'withdrawn', withdrawn_at = now() WHERE user_id = $1",
                learner)  # fmt: skip
        elif action == "forget":  # a progress row removed (an admin's correction)
            sql(self.url, "DELETE FROM lesson_progress WHERE user_id = $1 AND lesson_id = $2", learner, lesson)
        elif action == "hide":
            sql(self.url, "UPDATE lesson SET publication = 'draft' WHERE id = $1", lesson)
        elif action == "show":
            sql(self.url, "UPDATE lesson SET publication = 'published' WHERE id = $1", lesson)
        elif action == "move":
            module = rng.choice(self.modules)
            sql(self.url, "UPDATE lesson SET module_id = $2 WHERE id = $1", lesson, module)
            self.lessons[lesson] = module
        else:  # the learner's account deleted: their enrollments and progress go with it
            sql(self.url, "DELETE FROM user_account WHERE id = $1", learner)
            self.learners.remove(learner)
            self.learner()
        return action


def test_the_figures_follow_every_change_of_enrollments_progress_and_lessons(url: str) -> None:
    world = World(url, seed=20)
    for _ in range(12):
        world.learner()
    assert _oracle(url) == asyncio.run(_figures(url))  # nobody enrolled yet
    actions: list[str] = []
    for number in range(200):
        actions.append(world.step())
        assert asyncio.run(_figures(url)) == _oracle(url), actions[-5:]
        if number % 100 == 99:
            assert asyncio.run(_fold(url)) > 0
            assert asyncio.run(_figures(url)) == _oracle(url), "after folding"
    figures = asyncio.run(_figures(url))
    assert sum(f[2] for f in figures) > 0  # the walk did enroll learners
    assert sum(f[4] for f in figures) >= 0
    assert {"enroll", "complete", "hide", "move", "leave"} <= set(actions)


def test_the_figures_read_neither_enrollments_nor_progress_rows(url: str) -> None:
    sent = asyncio.run(
        statements_sent(url, lambda session, engine: ProgressRepository(session, engine).module_figures())
    )
    plans = [asyncio.run(plan_of(url, statement, parameters)) for statement, parameters in sent]
    read = {relation for plan in plans for relation in _relations(plan)}
    assert read
    assert not read & {"enrollment", "lesson_progress"}, read


def _relations(node: dict[str, Any]) -> Iterator[str]:
    if "Relation Name" in node:
        yield node["Relation Name"]
    for child in node.get("Plans", []):
        yield from _relations(child)


def test_the_workers_maintenance_folds_the_changes(url: str, tmp_path: Path) -> None:
    world = World(url, seed=5)
    world.learner()
    for _ in range(30):
        world.step()
    [pending] = sql(url, "SELECT count(*) AS n FROM module_progress_change")
    assert pending["n"] > 0
    result = run_learning("worker", "--once", env=clean_environment(LEARNING_DATABASE_URL=url), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sql(url, "SELECT count(*) AS n FROM module_progress_change")[0]["n"] == 0
    assert asyncio.run(_figures(url)) == _oracle(url)
