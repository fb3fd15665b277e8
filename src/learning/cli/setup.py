"""What every command starts with: the settings, and a database (the configured one, or the embedded one)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from learning.config import Settings, SettingsError, load_settings
from learning.embedded import EmbeddedPostgresError, embedded_postgres


def settings_or_exit() -> Settings:
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
