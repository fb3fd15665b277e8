"""Running the `learning` command as a user would: a subprocess with a clean LEARNING_* environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from learning.config import Settings


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any LEARNING_* variable, plus ``settings``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEARNING_")}
    env.update(settings)
    return env


def learning_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "learning.cli", *args]


def run_learning(
    *args: str, env: dict[str, str], cwd: Path, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        learning_command(*args), input=input, env=env, cwd=cwd, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def app_environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `learning` command working on the same database, files and key as ``settings``."""
    return clean_environment(
        LEARNING_DATABASE_URL=settings.require_database_url(),
        LEARNING_DATA_DIR=str(settings.data_dir),
        LEARNING_LOCAL_STORAGE_ROOT=str(settings.media_root),
        LEARNING_SECRET_KEY=settings.signing_key(),
        LEARNING_CONTENT_DIR=str(settings.content_root),
        **extra,
    )
