"""A synced catalog and the ids of a video and a text lesson of one module."""

from __future__ import annotations

from typing import Any

import pytest

from learning.config import Settings
from tests.helpers.progress import synced_course


@pytest.fixture
def course(settings: Settings) -> dict[str, Any]:
    return synced_course(settings)
