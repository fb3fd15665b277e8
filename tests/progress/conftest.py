"""A synced catalog and the ids of a video and a text lesson of one module."""

from __future__ import annotations

from typing import Any

import pytest

from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import sql
from tests.helpers.progress import MODULE


@pytest.fixture
def course(settings: Settings) -> dict[str, Any]:
    sync(settings)
    url = settings.require_database_url()
    rows = sql(url, "SELECT l.id, l.slug, l.kind, l.duration_seconds FROM lesson l JOIN module m ON m.id = l.module_id "
                    "WHERE m.slug = $1 ORDER BY l.position", MODULE)  # fmt: skip
    video = next(r for r in rows if r["kind"] == "video")
    text = next(r for r in rows if r["kind"] == "text")
    return {"video": str(video["id"]), "duration": video["duration_seconds"], "text": str(text["id"])}
