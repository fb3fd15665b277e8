"""The ``learning`` command: serve, db upgrade, create-admin."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from learning.config import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from learning.catalog.sync import SyncReport
from learning.embedded import EmbeddedPostgresError, embedded_postgres
from learning.lib.logging import configure_logging, logging_config


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Yield settings with a database URL: the configured one, or the embedded server's."""
    if settings.database_url is not None:
        yield settings
        return
    try:
        with embedded_postgres(settings.data_dir) as url:
            yield settings.model_copy(update={"database_url": url})
    except EmbeddedPostgresError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
@click.version_option(package_name="learning")
def main() -> None:
    """learning — the MOOC and the 2019 webinars, their replays, feeds and learner progress."""


@main.command()
def serve() -> None:
    """Migrate, then serve the API (embedded PostgreSQL when LEARNING_DATABASE_URL is unset)."""
    settings = _settings()
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        if settings.content_sync_on_start:
            report = _sync(ready)
            click.echo(f"content sync: {report.changes} changed", err=True)
        _banner(ready, embedded=settings.embedded)
        _run_server(ready)


@main.command()
@click.option("--once", is_flag=True, help="Run one pass and exit.")
def worker(once: bool) -> None:
    """Run the background worker (maintenance; media processing joins it later)."""
    settings = _settings()
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade
    from learning.jobs.worker import run_worker

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        asyncio.run(run_worker(ready, once=once))


@main.group()
def content() -> None:
    """Content commands."""


@content.command("sync")
@click.option("--dry-run", is_flag=True, help="Validate and report the changes without writing them.")
def content_sync(dry_run: bool) -> None:
    """Import modules/, feeds/ and media/ into the catalog (idempotent)."""
    settings = _settings()
    configure_logging("WARNING")
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        report = _sync(ready, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    verb = "would change" if dry_run else "changed"
    click.echo(f"content sync: {report.changes} {verb}")


def _sync(settings: Settings, *, dry_run: bool = False) -> SyncReport:
    from learning.admin.commands import sync_content
    from learning.catalog.content import ContentError
    from learning.lib.errors import LearningError

    try:
        return asyncio.run(sync_content(settings, settings.content_root, dry_run=dry_run))
    except ContentError as exc:
        raise click.ClickException("the content has errors:\n" + "\n".join(str(e) for e in exc.errors)) from None
    except LearningError as exc:
        raise click.ClickException(exc.detail) from None


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--session", "session", help="The webinar session: YYYY-MM or <series>/<session>.")
@click.option("--lesson", help="The lesson: <module>/<lesson>.")
@click.option("--publish", is_flag=True, help="Publish the session or lesson once the replay is ready.")
@click.option("--email", help="The admin who uploads (needed when there are several).")
@click.option("--server", help="Base URL of the server (default: the local one, or one started for the upload).")
@click.option("--no-wait", is_flag=True, help="Do not wait for the processing to finish.")
def upload(
    file: Path, session: str | None, lesson: str | None, publish: bool, email: str | None, server: str | None,
    no_wait: bool,
) -> None:  # fmt: skip
    """Upload a replay (resumable: run it again after an interruption) and wait until it is ready."""
    if bool(session) == bool(lesson):
        raise click.UsageError("give either --session or --lesson")
    target = f"session:{session}" if session else f"lesson:{lesson}"
    settings = _settings()
    configure_logging("WARNING")
    from learning.admin.upload_cli import UploadCommandError, admin_token, upload_file
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        try:
            token = os.environ.get("LEARNING_TOKEN") or admin_token(ready, email)
            with (
                server_for(ready, server) as base,
                click.progressbar(length=file.stat().st_size, label=f"Envoi de {file.name}", show_pos=True) as bar,
            ):

                def progress(done: int, total: int) -> None:
                    bar.update(done - bar.pos)

                outcome = upload_file(
                    base=base, token=token, path=file, target=target, publish=publish,
                    state_file=ready.data_dir / "uploads.json", progress=progress, wait=not no_wait,
                )  # fmt: skip
        except UploadCommandError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{outcome.location}: {outcome.status}")
    if outcome.status == "failed":
        raise click.ClickException(outcome.error or "processing failed")


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply the migrations."""
    settings = _settings()
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url(), revision)
    click.echo(f"database at {revision}")


@main.command("create-admin")
@click.option("--email", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(email: str, password_stdin: bool) -> None:
    """Create an admin account, or give the admin role to an existing account."""
    settings = _settings()
    configure_logging("WARNING")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            raise click.ClickException("the passwords differ")
    from learning.admin.commands import create_admin as run
    from learning.db.migrate import upgrade
    from learning.lib.errors import LearningError

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        try:
            message = asyncio.run(run(ready, email=email, password=password))
        except LearningError as exc:
            raise click.ClickException(exc.detail) from None
    click.echo(message)


@contextlib.contextmanager
def server_for(settings: Settings, explicit: str | None) -> Iterator[str]:
    """The running server's base URL, or the app started here for the duration of a command."""
    from learning.admin.upload_cli import UploadCommandError, answers

    base = (explicit or f"http://{settings.host}:{settings.port}").rstrip("/")
    if explicit or answers(base):
        yield base
        return
    import uvicorn

    from learning.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    # This app serves only this command: its public address (tus Location is built from it) is its own.
    own = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"})
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(own), host="127.0.0.1", port=port, log_config=None, access_log=False, proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise UploadCommandError("the app could not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


def _banner(settings: Settings, *, embedded: bool) -> None:
    base = f"http://{settings.host}:{settings.port}"
    where = f"embedded PostgreSQL under {settings.data_dir}" if embedded else "external PostgreSQL"
    lines = [
        f"learning is starting on {base} ({where}; storage: {settings.storage_backend.value})",
        f"  API docs      {base}/schema",
        f"  OpenAPI       {base}/schema/openapi.json",
        f"  health        {base}/health/ready",
        f"  sign up       POST {base}/api/v1/auth/register",
        "  stop          Ctrl-C",
    ]
    click.echo("\n".join(lines), err=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _run_server(settings: Settings) -> None:
    # Servers handle SIGTERM themselves, and uvicorn sends it to itself again once it has stopped: this
    # handler turns that into a normal exit, so the embedded PostgreSQL is stopped on the way out.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if settings.server == "uvicorn" and settings.workers == 1:
        import uvicorn

        from learning.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            proxy_headers=False,  # LEARNING_TRUSTED_PROXIES alone decides, in the app (lib/proxies.py)
        )
        return
    # Worker processes rebuild settings from the environment: hand them the resolved database URL.
    os.environ["LEARNING_DATABASE_URL"] = settings.require_database_url()
    if settings.server == "uvicorn":
        import uvicorn

        uvicorn.run(
            "learning.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            access_log=False,
            proxy_headers=False,  # LEARNING_TRUSTED_PROXIES alone decides, in the app (lib/proxies.py)
        )
        return
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        "learning.app:app_from_environment",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        factory=True,
        log_access=False,
        log_dictconfig=logging_config(settings.log_level),
    ).serve()


if __name__ == "__main__":
    main()
