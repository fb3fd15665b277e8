"""Database outage detection is one function, ``learning.lib.errors.is_database_outage``: the problem handlers
answer 503 with it and the download recorder keeps its records in memory with it. It decides from exception
types, however deeply SQLAlchemy wraps the driver's error."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from learning.lib.errors import is_database_outage
from learning.media.downloads import recorder


def _wrapped(driver_error: Exception, adapter: type[Exception] = AsyncAdapt_asyncpg_dbapi.Error) -> DBAPIError:
    """What SQLAlchemy raises for a driver error: DBAPIError → the adapter's error → the asyncpg error."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise adapter(str(exc), exc) from exc
    except Exception as adapted:
        return DBAPIError.instance("SELECT 1", None, adapted, AsyncAdapt_asyncpg_dbapi.Error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(ConnectionRefusedError(111, "refused"), id="refused"),
        pytest.param(TimeoutError(), id="timeout"),
        pytest.param(OperationalError("SELECT 1", None, Exception("gone")), id="sqlalchemy-operational"),
        pytest.param(PoolTimeoutError(), id="pool-timeout"),
        pytest.param(asyncpg.ConnectionDoesNotExistError("closed"), id="asyncpg-connection-closed"),
        pytest.param(_wrapped(asyncpg.AdminShutdownError("terminating")), id="wrapped-admin-shutdown"),
        pytest.param(_wrapped(asyncpg.CannotConnectNowError("starting up")), id="wrapped-starting-up"),
        pytest.param(_wrapped(asyncpg.TooManyConnectionsError("too many")), id="wrapped-too-many"),
        pytest.param(
            _wrapped(asyncpg.InterfaceError("closed"), AsyncAdapt_asyncpg_dbapi.InterfaceError),
            id="wrapped-interface",
        ),
        pytest.param(_wrapped(ConnectionResetError(104, "reset")), id="wrapped-socket-reset"),
        pytest.param(_wrapped(OSError(113, "no route to host")), id="wrapped-oserror"),
    ],
)
def test_a_lost_or_refused_connection_is_an_outage(error: BaseException) -> None:
    assert is_database_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(ValueError("bad"), id="value-error"),
        pytest.param(FileNotFoundError("no such file"), id="bare-file-not-found"),
        pytest.param(_wrapped(asyncpg.UniqueViolationError("duplicate")), id="wrapped-unique-violation"),
        pytest.param(_wrapped(asyncpg.NumericValueOutOfRangeError("overflow")), id="wrapped-out-of-range"),
        pytest.param(IntegrityError("INSERT", None, Exception("duplicate")), id="sqlalchemy-integrity"),
    ],
)
def test_a_refused_statement_is_not_an_outage(error: BaseException) -> None:
    assert not is_database_outage(error)


def test_the_download_recorder_uses_the_same_definition() -> None:
    assert recorder.is_database_outage is is_database_outage


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(_wrapped(asyncpg.QueryCanceledError("statement timeout")), id="wrapped-statement-timeout"),
        pytest.param(_wrapped(asyncpg.LockNotAvailableError("lock timeout")), id="wrapped-lock-timeout"),
        pytest.param(asyncpg.QueryCanceledError("statement timeout"), id="asyncpg-statement-timeout"),
    ],
)
def test_a_timed_out_wait_on_a_busy_database_is_an_outage(error: BaseException) -> None:
    assert is_database_outage(error)
