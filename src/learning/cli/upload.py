"""``learning upload``: send a replay to a webinar session or a lesson, resumably, and say where it is published."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import click

from learning.cli.french import EXIT_INTERRUPTED, FrenchCommand, FrenchUsageError
from learning.cli.setup import database, settings_or_exit
from learning.config import Settings
from learning.db import models as m
from learning.lib.logging import configure_logging


@click.command(cls=FrenchCommand)
@click.argument("file", metavar="FICHIER", type=click.Path(path_type=Path))
@click.option("--session", "session", metavar="SÉANCE", help="La séance de webinaire : AAAA-MM ou <série>/<séance>.")
@click.option("--lesson", metavar="LEÇON", help="La leçon : <module>/<leçon>.")
@click.option("--publish", is_flag=True, help="Publie la séance ou la leçon dès que le replay est prêt.")
@click.option("--email", metavar="COURRIEL", help="L’administrateur qui envoie (s’il y en a plusieurs).")
@click.option(
    "--server",
    metavar="URL",
    help="Adresse du serveur (par défaut : le serveur local, ou un serveur lancé pour l’envoi).",
)
@click.option("--no-wait", is_flag=True, help="N’attend pas la fin du traitement.")
@click.option(
    "--chunk-size", type=click.IntRange(1, 1024), default=8, metavar="MIO",
    help="Taille des morceaux envoyés, en Mio (8 par défaut ; plus petit sur une connexion lente).",
)  # fmt: skip
def upload(
    file: Path, session: str | None, lesson: str | None, publish: bool, email: str | None, server: str | None,
    no_wait: bool, chunk_size: int,
) -> None:  # fmt: skip
    """Envoie le replay FICHIER (reprise possible : relancez la même commande après une interruption), attend
    qu’il soit prêt et dit où il est publié."""
    if bool(session) == bool(lesson):
        raise FrenchUsageError("donnez soit --session, soit --lesson")
    if not file.exists():
        raise FrenchUsageError(f"le fichier {file} n’existe pas")
    if not file.is_file():
        raise FrenchUsageError(f"{file} n’est pas un fichier")
    target = f"session:{session}" if session else f"lesson:{lesson}"
    settings = settings_or_exit()
    configure_logging("WARNING")
    from learning.admin.upload_cli import UploadCommandError, admin_token, offset_fraction, upload_file
    from learning.cli.serving import server_for
    from learning.db.migrate import upgrade

    done = [0, file.stat().st_size]
    try:
        with database(settings) as ready:
            upgrade(ready.require_database_url())
            token = os.environ.get("LEARNING_TOKEN") or admin_token(ready, email)
            with (
                server_for(ready, server) as base,
                click.progressbar(length=done[1], label=f"Envoi de {file.name}", show_pos=True) as bar,
            ):

                def progress(offset: int, total: int) -> None:
                    done[:] = [offset, total]
                    bar.update(offset - bar.pos)

                def announce(message: str) -> None:
                    click.echo(message, err=True)

                outcome = upload_file(
                    base=base, token=token, path=file, target=target, publish=publish,
                    state_file=ready.data_dir / "uploads.json", progress=progress, announce=announce,
                    wait=not no_wait, chunk_size=chunk_size * 1024 * 1024,
                )  # fmt: skip
            page = _page(ready, server, outcome.target_kind, outcome.target_id)
    except UploadCommandError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo(
            f"\nEnvoi interrompu à {offset_fraction(*done)} % : relancez la même commande pour reprendre.", err=True
        )
        sys.exit(EXIT_INTERRUPTED)
    if outcome.status == "failed":
        raise click.ClickException(f"le serveur a refusé le fichier : {outcome.error or 'traitement en échec'}")
    if outcome.status != "ready":
        click.echo(f"Fichier reçu ; le traitement continue sur le serveur. Page : {page}")
    elif publish:
        click.echo(f"Replay prêt et publié : {page}")
    else:
        click.echo(f"Replay prêt, non publié (publiez-le avec --publish ou depuis /admin/) : {page}")


def _page(settings: Settings, server: str | None, kind: m.UploadTarget, target_id: uuid.UUID) -> str:
    """The public page of the session or lesson, at the site's public address."""
    from learning.admin.commands import episode

    found = asyncio.run(episode(settings, kind, target_id))
    base = str(settings.public_base_url).rstrip("/") if settings.public_base_url else (server or settings.base_url)
    if found is None:
        return f"{base.rstrip('/')}/admin/"
    return f"{base.rstrip('/')}{found.public_path}"
