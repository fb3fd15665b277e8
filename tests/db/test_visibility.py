"""The visibility rule (published, or scheduled and due) is written once, in ``learning.db.models.catalog``:
``Publishable.visible`` in SQL and ``is_visible`` in Python. Both must say the same thing for every state."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker
from learning.lib.clock import utcnow

NOW = utcnow()
CASES = [
    # (publication, publish_at, visible at NOW)
    (m.Publication.PUBLISHED, None, True),
    (m.Publication.PUBLISHED, NOW + timedelta(days=1), True),
    (m.Publication.SCHEDULED, NOW - timedelta(minutes=1), True),
    (m.Publication.SCHEDULED, NOW, True),
    (m.Publication.SCHEDULED, NOW + timedelta(minutes=1), False),
    (m.Publication.SCHEDULED, None, False),
    (m.Publication.DRAFT, None, False),
    (m.Publication.DRAFT, NOW - timedelta(days=1), False),
]


@pytest.mark.parametrize(("publication", "publish_at", "expected"), CASES)
def test_is_visible_follows_the_publication_rule(
    publication: m.Publication, publish_at: datetime | None, expected: bool
) -> None:
    row = m.Module(slug="x", title="x", publication=publication, publish_at=publish_at)
    assert m.is_visible(row, NOW) is expected
    later = m.publishes_later(row, NOW)
    assert later == (publish_at if publication is m.Publication.SCHEDULED and not expected else None)


async def test_the_sql_rule_and_the_python_rule_agree(clean_database: str) -> None:
    engine = create_engine(clean_database, pool_size=1)
    try:
        async with create_sessionmaker(engine).begin() as session:
            rows = [
                m.Module(id=uuid.uuid4(), slug=f"case-{n}", title="Case", publication=publication, publish_at=at)
                for n, (publication, at, _) in enumerate(CASES)
            ]
            session.add_all(rows)
            await session.flush()
            found = set((await session.execute(select(m.Module.slug).where(m.Module.visible(NOW)))).scalars())
            assert found == {row.slug for row in rows if m.is_visible(row, NOW)}
            assert found == {f"case-{n}" for n, (_, _, visible) in enumerate(CASES) if visible}
            await session.rollback()
    finally:
        await engine.dispose()
