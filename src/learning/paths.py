"""Where the shipped files (migrations, content, sample media) are: the checkout, or inside the wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def project_root() -> Path:
    checkout = _PACKAGE.parents[1]
    if (checkout / "migrations" / "env.py").is_file():
        return checkout
    return _PACKAGE / "_data"


def migrations_dir() -> Path:
    return project_root() / "migrations"
