"""Serving: the port check before start, the banner, the server (granian or uvicorn), and the app a command
starts for its own duration when no server runs."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import click

from learning.config import Settings
from learning.db import models as m
from learning.lib.logging import logging_config
from learning.web.views import feed_url


class PortTaken(click.ClickException):
    """Another program listens on the port: said on one line, exit 2."""

    exit_code = 2


def local_base(settings: Settings) -> str:
    """Where this machine reaches the server (a wildcard address is reached through loopback)."""
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104 — compared, not bound
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def check_port_free(settings: Settings) -> None:
    """Refuse to start when something listens on the port, another `learning serve` included.

    granian binds with SO_REUSEPORT, so a second server would share the port with the first and the two
    would answer in turn. A probe bound without SO_REUSEPORT fails while any listener holds the port;
    SO_REUSEADDR only lets it past the TIME_WAIT connections a server just stopped leaves behind.
    """
    host = settings.host or "0.0.0.0"  # noqa: S104 — the address the server itself will bind
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, settings.port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise PortTaken(f"impossible d’écouter sur {host}:{settings.port} : {exc.strerror}") from None
            raise PortTaken(
                f"le port {settings.port} est déjà pris (un autre programme, ou un autre `learning serve`) : "
                "arrêtez-le, ou choisissez un autre port avec LEARNING_PORT"
            ) from None


def banner(settings: Settings, *, embedded: bool) -> str:
    """What `learning serve` prints before serving: where the pages, the admin, the feeds and the API are."""
    from learning.admin.commands import feed_sources

    base = local_base(settings)
    where = f"PostgreSQL embarqué dans {settings.data_dir}" if embedded else "PostgreSQL externe"
    feeds = sorted(asyncio.run(feed_sources(settings)), key=lambda found: (found[0].value, found[1]))
    lines = [
        f"learning démarre sur {base} ({where} ; stockage : {settings.storage_backend.value})",
        f"  accueil                {base}/",
        f"  administration         {base}/admin/",
    ]
    for label, kind in (("flux des webinaires", m.FeedKind.WEBINAR_SERIES), ("flux des modules", m.FeedKind.MODULE)):
        for index, (_, slug) in enumerate(found for found in feeds if found[0] is kind):
            lines.append(f"  {label if index == 0 else '':<22} {feed_url(base, kind, slug)}")
    lines += [
        f"  référence de l’API     {base}/schema",
        f"  état                   {base}/health/ready",
        "  arrêt                  Ctrl-C",
    ]
    return "\n".join(lines)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_server(settings: Settings) -> None:
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


@contextlib.contextmanager
def server_for(settings: Settings, explicit: str | None) -> Iterator[str]:
    """The running server's base URL, or the app started here for the duration of a command."""
    from learning.admin.upload_cli import UploadCommandError, answers

    base = (explicit or local_base(settings)).rstrip("/")
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
            raise UploadCommandError("l’application n’a pas pu démarrer pour cet envoi")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
