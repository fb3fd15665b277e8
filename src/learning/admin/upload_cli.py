"""``learning upload FILE --session 2019-03 [--publish]``: a replay upload from the command line.

It speaks tus to the running server (or starts the app for its own duration when none answers), shows a
progress bar, and remembers the upload's URL per file: running it again after an interruption resumes
where the server stands. It then waits until the replay is processed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError
from tusclient.storage.filestorage import FileStorage

from learning.accounts.auth import build_jwt_auth
from learning.accounts.repositories import UserRepository
from learning.config import Settings
from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker

CHUNK_SIZE = 8 * 1024 * 1024
POLL_SECONDS = 0.5
UPLOADS_PATH = "/api/v1/admin/uploads/"


class UploadCommandError(Exception):
    """A problem to report to the admin on one line."""


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    location: str
    status: str
    error: str | None


async def _admin_token(settings: Settings, email: str | None) -> str:
    """A token for an admin account, signed with this installation's key (the CLI runs beside the server)."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            users = UserRepository(session)
            if email:
                user = await users.get_by_email(email.strip().casefold())
            else:
                admins = [u for u in (await users.list(limit=100, offset=0))[0] if u.role is m.Role.ADMIN]
                user = admins[0] if len(admins) == 1 else None
                if user is None:
                    raise UploadCommandError("say which admin uploads: --email (there is not exactly one admin)")
            if user is None or user.role is not m.Role.ADMIN:
                raise UploadCommandError(f"{email} is not an admin account (see `learning create-admin`)")
            jwt_auth = build_jwt_auth(secret=settings.signing_key(), lifetime_seconds=3600)
            return jwt_auth.create_token(identifier=str(user.id), token_extras={"ver": user.token_version})
    finally:
        await engine.dispose()


def admin_token(settings: Settings, email: str | None) -> str:
    return asyncio.run(_admin_token(settings, email))


def answers(base: str) -> bool:
    """Whether a server runs at ``base``."""
    try:
        return httpx.get(f"{base}/health/live", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def upload_file(
    *,
    base: str,
    token: str,
    path: Path,
    target: str,
    publish: bool,
    state_file: Path,
    progress: Callable[[int, int], None],
    wait: bool,
) -> UploadOutcome:
    """Upload (or resume) ``path`` for ``target``; wait for processing when ``wait``."""
    headers = {"Authorization": f"Bearer {token}"}
    state_file.parent.mkdir(parents=True, exist_ok=True)
    client = tus.TusClient(base + UPLOADS_PATH, headers=headers)
    metadata = {"filename": path.name, "target": target, "publish": "true" if publish else "false"}
    # tuspy opens (and closes) the file itself, for each chunk and for its fingerprint.
    uploader = client.uploader(
        file_path=str(path),
        chunk_size=CHUNK_SIZE,
        metadata=metadata,
        store_url=True,
        url_storage=FileStorage(str(state_file)),  # type: ignore[no-untyped-call]  # tuspy is untyped
        retries=3,
        retry_delay=2,
    )
    size: int = uploader.get_file_size()  # type: ignore[no-untyped-call]
    progress(uploader.offset, size)
    try:
        while uploader.offset < size:
            uploader.upload_chunk()  # type: ignore[no-untyped-call]
            progress(uploader.offset, size)
    except TusCommunicationError as exc:
        raise UploadCommandError(f"the server refused the upload ({exc.status_code}): {exc}") from None
    location = str(uploader.url)
    status, error = "uploaded", None
    while wait:
        answer = httpx.get(location, headers=headers, timeout=10)
        if answer.status_code != 200:
            raise UploadCommandError(f"cannot read the upload's state ({answer.status_code})")
        body = answer.json()
        status, error = body["status"], body.get("error")
        if status in {"ready", "failed"}:
            break
        time.sleep(POLL_SECONDS)
    return UploadOutcome(location=location, status=status, error=error)
