"""Uploads run against a real server (tuspy needs a socket), with the shipped content loaded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import sync
from tests.helpers.live import free_port, live_server

UPLOADS = "/api/v1/admin/uploads/"
TERMINAL = {"ready", "failed"}


@dataclass
class Server:
    base: str
    settings: Settings
    token: str
    context: Any = None

    def stop(self) -> None:
        """Stop the app (its lifespan ends: jobs, caches, connections), as a restart would."""
        if self.context is not None:
            self.context.__exit__(None, None, None)
            self.context = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def uploads(self) -> str:
        return self.base + UPLOADS

    def state(self, location: str) -> dict[str, Any]:
        response = httpx.get(location, headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_until_done(self, location: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(location)
            if state["status"] in TERMINAL:
                return state
            time.sleep(0.1)  # polling for the job, not a timing assertion
        raise AssertionError(f"upload still {state['status']} after {timeout} s")


def _login(base: str, email: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def upload_settings(settings: Settings) -> Settings:
    sync(settings)
    asyncio.run(create_admin(settings, email="regie@example.org", password=PASSWORD))
    return settings.model_copy(update={"upload_max_bytes": 64 * 1024 * 1024})


@pytest.fixture
def start_server(upload_settings: Settings) -> Iterator[Callable[..., Any]]:
    """Start (and later stop) servers on one port, so an upload URL survives a restart."""
    port = free_port()
    running: list[Server] = []

    def start(**overrides: Any) -> Server:
        # The public address is the server's own: tus Location is built from it.
        public = {"public_base_url": f"http://127.0.0.1:{port}"}
        settings = upload_settings.model_copy(update=public | overrides)
        context = live_server(create_app(settings), port=port)
        base = context.__enter__()
        server = Server(base=base, settings=settings, token=_login(base, "regie@example.org"), context=context)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "fichiers"
    folder.mkdir()
    return folder
