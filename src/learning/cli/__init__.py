"""The ``learning`` command, in French like the pages: serve, worker, content sync, upload, db upgrade,
create-admin."""

from __future__ import annotations

from learning.cli.commands import main

__all__ = ["main"]
