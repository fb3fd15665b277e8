"""Fixtures of the catalog tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.database import REPOSITORY


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A private copy of the shipped content, free to edit."""
    root = tmp_path / "content"
    for folder in ("modules", "feeds", "media"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    return root
