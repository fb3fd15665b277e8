"""Running the `learning` command as a user would: a subprocess with a clean LEARNING_* environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


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
