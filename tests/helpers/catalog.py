"""Loading the shipped content into a test database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from learning.admin.commands import sync_content
from learning.catalog.sync import SyncReport
from learning.config import Settings

SERIES = "innovation-territoriale-en-actions-2019"


def sync(settings: Settings, root: Path | None = None, *, dry_run: bool = False) -> SyncReport:
    return asyncio.run(sync_content(settings, root or settings.content_root, dry_run=dry_run))
