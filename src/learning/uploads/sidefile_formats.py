"""What a side file's bytes turned out to be: the one result every format check returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """What the bytes turned out to be."""

    mime_type: str
    extension: str
    width: int | None = None
    height: int | None = None
