"""Test set-up: a real PostgreSQL (LEARNING_TEST_DATABASE_URL, or an embedded server for the session),
the schema built by the migrations, every test starting from empty tables.

Two rules for the whole run:
- the browser tests (marker ``browser``) need Debian's Chromium, and the accessibility tests axe-core from npm
  (``npm ci --prefix tests/js``); when one is missing the run stops at once and names the command that installs
  it: a browser test is never skipped in silence;
- a run changes no tracked file: the content of every tracked file is fingerprinted when the run starts
  and compared when it ends, and a difference fails the run (tests write under their temporary folders and
  ``build/``).

With pytest-xdist each worker is its own session: its own embedded PostgreSQL, database and data folders.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.db.migrate import upgrade
from learning.embedded import embedded_postgres
from tests.helpers.axe import AXE_MISSING, axe_problem
from tests.helpers.browser import CHROMIUM, CHROMIUM_MISSING
from tests.helpers.database import empty_database, make_settings, on_database, truncate_all

pytest_plugins = ["tests.helpers.accounts", "tests.helpers.s3"]

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
_TRACKED = pytest.StashKey[dict[str, str] | None]()


@pytest.hookimpl(trylast=True)  # after -m / -k have deselected what the run leaves out
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists() and any(item.get_closest_marker("browser") for item in items):
        raise pytest.UsageError(CHROMIUM_MISSING.format(path=CHROMIUM))
    # The accessibility tests inject axe-core from npm (tests/js): missing, the run stops and names the command.
    if any("axe" in getattr(item, "fixturenames", ()) for item in items) and (problem := axe_problem()):
        raise pytest.UsageError(AXE_MISSING.format(problem=problem))


def _tracked_fingerprints() -> dict[str, str] | None:
    """Every tracked file's content hash (None outside a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=REPOSITORY_ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    fingerprints: dict[str, str] = {}
    for name in filter(None, listed.decode().split("\0")):
        path = REPOSITORY_ROOT / name
        fingerprints[name] = hashlib.blake2b(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    return fingerprints


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Started as a background job (`cmd &`, nohup), a process — and every command it starts — ignores SIGINT:
    # the commands the tests interrupt with Ctrl-C would go on (the upload tests hung 60 s, then failed). The
    # tests start their commands as a shell's foreground job would: with SIGINT at its default.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if not _is_xdist_worker(session.config):
        session.config.stash[_TRACKED] = _tracked_fingerprints()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _is_xdist_worker(session.config):
        return
    before = session.config.stash.get(_TRACKED, None)
    after = _tracked_fingerprints() if before is not None else None
    if before is None or after is None:
        return
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the test run changed tracked files: " + ", ".join(changed[:20])
        if reporter is not None:
            reporter.write_line(message, red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server: the one named by LEARNING_TEST_DATABASE_URL, or an embedded throwaway one."""
    configured = os.environ.get("LEARNING_TEST_DATABASE_URL")
    if configured:
        yield Settings(database_url=configured).database_url or configured
        return
    with embedded_postgres(tmp_path_factory.mktemp("pg"), database="postgres", temporary=True) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(server_url: str) -> Iterator[str]:
    """A fresh database for this run, its schema made by the Alembic migrations."""
    with empty_database(server_url, "learning_test") as name:
        url = on_database(server_url, name)
        upgrade(url)
        yield url


@pytest.fixture
def clean_database(database_url: str) -> str:
    """The test database, emptied before the test (each test starts from empty tables)."""
    truncate_all(database_url)
    return database_url


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    return make_settings(clean_database, tmp_path / "var")


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Any]:
    """Build test clients for apps with (optionally) adjusted settings; all are closed after the test."""
    clients: list[TestClient[Any]] = []

    def make(**overrides: Any) -> TestClient[Any]:
        app_settings = settings.model_copy(update=overrides) if overrides else settings
        client = TestClient(app=create_app(app_settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Any) -> TestClient[Any]:
    return make_client()
