"""The test command is whole: without Debian's Chromium (or axe-core from npm) the run stops at once and names the
command that installs it, instead of skipping the browser tests in silence."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_without_chromium_stops_and_says_how_to_install_it(tmp_path: Path) -> None:
    env = {**os.environ, "LEARNING_TEST_CHROMIUM": str(tmp_path / "no-chromium-here")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "--collect-only", "-q",
         "tests/web/test_browser.py", "tests/test_health.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "apt-get install -y chromium" in output, output
    assert "skipped" not in output


def test_without_the_browser_tests_the_run_does_not_need_chromium(tmp_path: Path) -> None:
    env = {**os.environ, "LEARNING_TEST_CHROMIUM": str(tmp_path / "no-chromium-here")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "--collect-only", "-q",
         "-m", "not browser", "tests/web/test_browser.py", "tests/test_health.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_run_without_axe_core_stops_and_says_how_to_install_it(tmp_path: Path) -> None:
    env = {**os.environ, "LEARNING_TEST_AXE": str(tmp_path / "no-axe-here.js")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "--collect-only", "-q",
         "tests/web/test_accessibility.py", "tests/test_health.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "npm ci --prefix tests/js" in output, output
    assert "skipped" not in output
    without = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "0", "-p", "no:cacheprovider", "--collect-only", "-q",
         "-m", "not browser", "tests/web/test_accessibility.py", "tests/test_health.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert without.returncode == 0, without.stdout + without.stderr


def test_the_readme_and_ci_install_the_node_packages_the_tests_need() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(line for line in readme.splitlines() if line.endswith(".venv/bin/python -m pytest"))
    assert "npm ci --prefix tests/js" in command, command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^npm ci --prefix tests/js\b", ci, re.MULTILINE), "the CI script does not install tests/js"
    assert ci.index("npm ci --prefix tests/js") < ci.index("-m pytest")
