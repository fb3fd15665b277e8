"""``learning upload FILE --session 2019-03 [--publish]``: a replay upload from the command line.

It speaks tus to the running server (or to the app it starts for its own duration when none answers),
shows a progress bar, and remembers each upload per file *and* target in ``var/uploads.json``, as a path
relative to the server: running it again after an interruption resumes where the server stands, through
whichever server runs then. The entry is forgotten once the upload is done. It then waits until the replay
is processed. Every problem is one French sentence (``UploadCommandError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError

from learning.accounts.auth import build_jwt_auth
from learning.accounts.repositories import UserRepository
from learning.config import Settings
from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker

CHUNK_SIZE = 8 * 1024 * 1024
POLL_SECONDS = 0.5
UPLOADS_PATH = "/api/v1/admin/uploads/"
FINGERPRINT_BYTES = 1024 * 1024
STATE_VERSION = 2
GONE = {403, 404, 410}  # the stored upload is no longer there to resume (terminated, expired, swept)


class UploadCommandError(Exception):
    """A problem to report to the admin in one French sentence."""


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    location: str
    status: str
    error: str | None
    target_kind: m.UploadTarget
    target_id: uuid.UUID


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
                    raise UploadCommandError(
                        "dites quel administrateur envoie le fichier avec --email (il n’y a pas exactement un "
                        "administrateur)"
                    )
            if user is None or user.role is not m.Role.ADMIN:
                raise UploadCommandError(f"{email} n’est pas un compte administrateur (voir `learning create-admin`)")
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


def describe_target(target: str) -> str:
    """« la séance 2019-13 », « la leçon module/leçon »: the target as the admin typed it."""
    kind, _, name = target.partition(":")
    return f"la séance {name}" if kind == "session" else f"la leçon {name}"


class UploadState:
    """Unfinished uploads, keyed by the file's fingerprint and the target; URLs kept relative to the server."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return {}  # an older layout (absolute URLs keyed by file alone): not worth resuming from
        uploads = data.get("uploads")
        return uploads if isinstance(uploads, dict) else {}

    def _save(self, uploads: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"version": STATE_VERSION, "uploads": uploads}, indent=2), encoding="utf-8")
        os.replace(temporary, self.path)

    @staticmethod
    def key(path: Path, target: str) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as file:
            digest.update(file.read(FINGERPRINT_BYTES))
        return f"{digest.hexdigest()}:{path.stat().st_size}|{target}"

    def get(self, key: str) -> str | None:
        entry = self._load().get(key)
        found = entry.get("path") if isinstance(entry, dict) else None
        return found if isinstance(found, str) and found.startswith(UPLOADS_PATH) else None

    def remember(self, key: str, url: str, *, file: Path, target: str) -> None:
        parts = urlsplit(url)
        uploads = self._load()
        uploads[key] = {"path": parts.path, "file": str(file), "target": target}
        self._save(uploads)

    def forget(self, key: str) -> None:
        uploads = self._load()
        if uploads.pop(key, None) is not None:
            self._save(uploads)


def _problem(content: Any) -> dict[str, Any]:
    with contextlib.suppress(ValueError, TypeError, UnicodeDecodeError):
        body = json.loads(content)
        if isinstance(body, dict):
            return body
    return {}


def explain(exc: TusCommunicationError, target: str) -> UploadCommandError:
    """A tus client error as one French sentence."""
    status = exc.status_code
    detail = str(_problem(exc.response_content).get("detail") or "")
    if status is None:
        return UploadCommandError("le serveur ne répond pas : relancez la même commande pour reprendre")
    if status == 422 and "target" in detail.lower():
        return UploadCommandError(f"{describe_target(target)} n’existe pas")
    if status in {401, 403}:
        return UploadCommandError("le serveur refuse le jeton d’administration (clé de signature différente ?)")
    if status == 413:
        return UploadCommandError("le fichier dépasse la taille maximale d’un envoi (LEARNING_UPLOAD_MAX_BYTES)")
    if status == 507:
        return UploadCommandError("le serveur manque de place pour ce fichier : terminez ou supprimez d’autres envois")
    if status == 503:
        return UploadCommandError(
            "le serveur est momentanément indisponible : relancez la même commande pour reprendre"
        )
    return UploadCommandError(f"le serveur a refusé l’envoi (statut {status}{' : ' + detail if detail else ''})")


def _human(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mio".replace(".", ",")


def upload_file(
    *,
    base: str,
    token: str,
    path: Path,
    target: str,
    publish: bool,
    state_file: Path,
    progress: Callable[[int, int], None],
    announce: Callable[[str], None],
    wait: bool,
    chunk_size: int = CHUNK_SIZE,
) -> UploadOutcome:
    """Upload (or resume) ``path`` for ``target``; wait for processing when ``wait``."""
    headers = {"Authorization": f"Bearer {token}"}
    state = UploadState(state_file)
    key = state.key(path, target)
    client = tus.TusClient(base + UPLOADS_PATH, headers=headers)
    options: dict[str, Any] = {"file_path": str(path), "chunk_size": chunk_size, "retries": 3, "retry_delay": 2}
    uploader = None
    stored = state.get(key)
    if stored is not None:
        try:
            # tuspy asks the server where the upload stands (HEAD) when it is given a URL.
            uploader = client.uploader(url=base + stored, **options)
        except TusCommunicationError as exc:
            if exc.status_code not in GONE:
                raise explain(exc, target) from None
            state.forget(key)
    if uploader is None:
        metadata = {"filename": path.name, "target": target, "publish": "true" if publish else "false"}
        uploader = client.uploader(metadata=metadata, **options)
        try:
            uploader.set_url(uploader.create_url())
        except TusCommunicationError as exc:
            raise explain(exc, target) from None
        state.remember(key, str(uploader.url), file=path, target=target)
    size: int = uploader.get_file_size()  # type: ignore[no-untyped-call]
    if uploader.offset > 0:
        received = f"{_human(uploader.offset)} sur {_human(size)} déjà reçus"
        announce(f"reprise à {offset_fraction(uploader.offset, size)} % ({received})")
    progress(uploader.offset, size)
    try:
        while uploader.offset < size:
            uploader.upload_chunk()  # type: ignore[no-untyped-call]
            progress(uploader.offset, size)
    except TusCommunicationError as exc:
        raise explain(exc, target) from None
    location = str(uploader.url)
    body = _state(location, headers)
    while wait and body["status"] not in {"ready", "failed"}:
        time.sleep(POLL_SECONDS)
        body = _state(location, headers)
    state.forget(key)
    return UploadOutcome(
        location=location,
        status=body["status"],
        error=body.get("error"),
        target_kind=m.UploadTarget(body["target_kind"]),
        target_id=uuid.UUID(body["target_id"]),
    )


def _state(location: str, headers: dict[str, str]) -> dict[str, Any]:
    try:
        answer = httpx.get(location, headers=headers, timeout=10)
    except httpx.TransportError:
        raise UploadCommandError("le serveur ne répond plus : relancez la même commande pour reprendre") from None
    if answer.status_code != 200:
        raise UploadCommandError(f"impossible de lire l’état de l’envoi (statut {answer.status_code})")
    body: dict[str, Any] = answer.json()
    return body


def offset_fraction(done: int, total: int) -> int:
    """Whole percent of ``total`` done."""
    return done * 100 // total if total else 100
