"""The ``learning`` group and its commands: serve, worker, content sync, db upgrade, create-admin (upload is in
``cli/upload.py``). Messages, help and errors are French (``cli/french.py``)."""

from __future__ import annotations

import asyncio
import getpass
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import click

from learning.cli.french import VERSION_HELP, FrenchGroup
from learning.cli.setup import database, settings_or_exit
from learning.cli.upload import upload
from learning.config import Settings
from learning.lib.logging import configure_logging

if TYPE_CHECKING:
    from learning.catalog.sync import SyncReport


@click.group(cls=FrenchGroup)
@click.version_option(package_name="learning", message="%(prog)s, version %(version)s", help=VERSION_HELP)
def main() -> None:
    """learning — le MOOC et les webinaires de 2019 : pages, replays, flux de podcast et progression des
    apprenants."""


@main.command()
def serve() -> None:
    """Applique les migrations, synchronise le contenu, puis sert le site et l’API (PostgreSQL embarqué quand
    LEARNING_DATABASE_URL n’est pas défini)."""
    settings = settings_or_exit()
    from learning.cli.serving import banner, check_port_free, run_server

    check_port_free(settings)  # before anything starts: a busy port is one line, not a traceback
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        if settings.content_sync_on_start:
            report = _sync_on_start(ready)
            if report is None:
                click.echo("contenu inchangé depuis la dernière synchronisation", err=True)
            else:
                for warning in report.warnings:
                    click.echo(f"attention : {warning}", err=True)
                click.echo(f"contenu synchronisé : {_changes(report.changes)}", err=True)
        click.echo(banner(ready, embedded=settings.embedded), err=True)
        run_server(ready)


@main.command()
@click.option("--once", is_flag=True, help="Fait un seul passage d’entretien, sans traiter de tâches, puis quitte.")
def worker(once: bool) -> None:
    """Lance le travailleur : traitement des replays envoyés (tâches pgqueuer) et entretien (envois expirés ou
    bloqués, vieux compteurs). `learning serve` le fait déjà lui-même, sauf avec LEARNING_JOBS_IN_PROCESS=false."""
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade
    from learning.jobs.worker import run_worker

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        asyncio.run(run_worker(ready, once=once))


@main.group()
def content() -> None:
    """Le contenu : modules/, feeds/ et media/."""


@content.command("sync")
@click.option("--dry-run", is_flag=True, help="Vérifie et annonce les changements sans les écrire.")
def content_sync(dry_run: bool) -> None:
    """Importe modules/, feeds/ et media/ dans le catalogue (idempotent)."""
    settings = settings_or_exit()
    configure_logging("WARNING")
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url())
        report = _sync(ready, dry_run=dry_run)
    for label, names in (
        ("créé", report.created), ("modifié", report.updated), ("dépublié", report.unpublished),
        ("média", report.media),
    ):  # fmt: skip
        for name in names:
            click.echo(f"{label:<11} {name}")
    for warning in report.warnings:
        click.echo(f"attention : {warning}", err=True)
    verb = "à faire (essai à blanc)" if dry_run else "faits"
    click.echo(f"contenu synchronisé : {_changes(report.changes)} {verb}")


def _changes(count: int) -> str:
    return f"{count} changement{'s' if count > 1 else ''}"


def _sync(settings: Settings, *, dry_run: bool = False) -> SyncReport:
    outcome = _sync_outcome(settings, dry_run)
    if isinstance(outcome, str):
        raise click.ClickException(outcome)
    return outcome


def _sync_outcome(settings: Settings, dry_run: bool) -> SyncReport | str:
    """The sync's report, or the French message of why it refused (a value, so that it crosses processes)."""
    from learning.admin.commands import sync_content
    from learning.catalog.content import ContentError
    from learning.lib.errors import LearningError

    try:
        return asyncio.run(sync_content(settings, settings.content_root, dry_run=dry_run))
    except ContentError as exc:
        return "le contenu a des erreurs :\n" + "\n".join(str(e) for e in exc.errors)
    except LearningError as exc:
        return exc.detail


def _sync_on_start(settings: Settings) -> SyncReport | None:
    """`learning serve`'s sync: nothing when the content's fingerprint is the one the last sync recorded
    (``catalog/content/manifest.py``); otherwise the sync, in a child process, so that what it allocates
    (every document parsed, thousands of rows) is not inherited by the server's workers forked from here."""
    from learning.admin.commands import stored_manifest
    from learning.catalog.content.manifest import content_fingerprint

    if asyncio.run(stored_manifest(settings)) == content_fingerprint(settings.content_root, settings).digest:
        return None
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as child:
        outcome = child.submit(_sync_outcome, settings, False).result()
    if isinstance(outcome, str):
        raise click.ClickException(outcome)
    return outcome


@main.group()
def db() -> None:
    """La base de données."""


@db.command("upgrade")
@click.option("--revision", default="head", metavar="RÉVISION", help="La révision visée (par défaut : head).")
def db_upgrade(revision: str) -> None:
    """Applique les migrations."""
    settings = settings_or_exit()
    configure_logging(settings.log_level)
    from learning.db.migrate import upgrade

    with database(settings) as ready:
        upgrade(ready.require_database_url(), revision)
    click.echo(f"base de données à la révision {revision}")


@main.command("create-admin")
@click.option("--email", required=True, metavar="COURRIEL", help="L’adresse du compte.")
@click.option("--password-stdin", is_flag=True, help="Lit le mot de passe sur l’entrée standard.")
def create_admin(email: str, password_stdin: bool) -> None:
    """Crée un compte administrateur, ou donne le rôle d’administrateur à un compte existant."""
    settings = settings_or_exit()
    configure_logging("WARNING")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Mot de passe (encore) : ") != password:
            raise click.ClickException("les deux mots de passe diffèrent")
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


main.add_command(upload)
