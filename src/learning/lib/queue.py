"""The job queue (pgqueuer, PostgreSQL-backed): enqueue inside the caller's transaction; run the jobs.

Enqueuing uses the same connection and transaction as the change that calls for the job, so a job
exists exactly when that change committed. Workers re-pick a job whose heartbeat stopped (a crashed
process) after ``heartbeat_timeout`` (``LEARNING_JOB_HEARTBEAT_TIMEOUT_SECONDS``); jobs are written to be
idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import asyncpg
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager
from pgqueuer.domain.errors import RetryRequested
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db.session import session_driver
from learning.lib.errors import is_database_outage
from learning.storage import StorageUnavailable

logger = logging.getLogger("learning.jobs")

PROCESS_UPLOAD = "process_upload"
SEND_MAIL = "send_mail"
PASSWORD_RESET = "password_reset"  # noqa: S105 (a job name, not a password)
EMAIL_CONFIRMATION = "email_confirmation"
RESTART_DELAY_SECONDS = 2.0
STOP_TIMEOUT_SECONDS = 30.0
OUTAGE_RETRY = timedelta(seconds=30)  # a job that met an outage goes again after this, doubled each time...
OUTAGE_RETRY_MAX = timedelta(minutes=10)  # ...up to this
OUTAGE_ATTEMPTS = 24  # about three hours of outage, then the job fails like any other


class JobQueue:
    """Enqueue jobs in the transaction of ``session``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(
        self,
        entrypoint: str,
        payload: bytes,
        *,
        dedupe_key: str | None = None,
        execute_after: timedelta | None = None,
    ) -> None:
        """Queue a job; with a ``dedupe_key`` already queued or running, nothing is added."""
        queries = Queries(AsyncpgDriver(await session_driver(self.session)))
        await queries.enqueue(
            entrypoint, payload, dedupe_key=dedupe_key, execute_after=execute_after, on_conflict="skip"
        )


Handler = Callable[[bytes], Awaitable[None]]
Periodic = Callable[[], Awaitable[object]]


class JobRunner:
    """Runs registered job handlers until stopped; reconnects when the database goes away. Each ``periodic``
    task (the maintenance, the reminders) runs at start and then every its own period (seconds), in whichever
    process runs the jobs."""

    def __init__(
        self,
        dsn: str,
        handlers: dict[str, Handler],
        *,
        concurrency: int = 1,
        periodic: Sequence[tuple[Periodic, float]] = (),
        heartbeat_timeout: timedelta = timedelta(seconds=30),
        outage_retry: timedelta = OUTAGE_RETRY,
    ) -> None:
        self.dsn = dsn
        self.outage_retry = outage_retry
        self.handlers = handlers
        self.concurrency = concurrency
        self.periodic = list(periodic)
        self.heartbeat_timeout = heartbeat_timeout
        self._task: asyncio.Task[None] | None = None
        self._periodic_tasks: list[asyncio.Task[None]] = []
        self._manager: QueueManager | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run_forever(), name="job-runner")
        self._periodic_tasks = [
            asyncio.create_task(self._run_periodic(task, period), name=f"job-periodic-{index}")
            for index, (task, period) in enumerate(self.periodic)
        ]

    async def _run_periodic(self, periodic: Periodic, period: float) -> None:
        while not self._stopping.is_set():
            try:
                await periodic()
            except Exception:  # a bug: logged, and the next pass runs all the same
                logger.exception("periodic task failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), period)

    async def stop(self) -> None:
        """Let the job in progress finish (up to ``STOP_TIMEOUT_SECONDS``), then stop; a job cut short is
        picked up again by a worker once its heartbeat stops."""
        self._stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()
        for task in self._periodic_tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_SECONDS)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._task is None:
            return
        done, _ = await asyncio.wait({self._task}, timeout=STOP_TIMEOUT_SECONDS)
        if not done:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def retry_delay(self, exc: Exception, attempts: int) -> timedelta | None:
        """When a job that raised ``exc`` on its ``attempts``-th retry goes again: only an outage (the database
        or the object store away or too slow) is worth waiting for, and not for ever."""
        if attempts >= OUTAGE_ATTEMPTS or not (is_database_outage(exc) or isinstance(exc, StorageUnavailable)):
            return None
        return min(self.outage_retry * (1 << attempts), OUTAGE_RETRY_MAX)

    def _adapt(self, handler: Handler) -> Callable[[Job], Awaitable[None]]:
        """The handler as pgqueuer runs it. A job that meets an outage is queued again for later (pgqueuer's
        ``RetryRequested``) instead of dropped with a traceback: a mail whose commit timed out still goes."""

        async def run(job: Job) -> None:
            try:
                await handler(job.payload or b"")
            except Exception as exc:
                delay = self.retry_delay(exc, job.attempts)
                if delay is None:
                    raise
                logger.warning(
                    "job %s/%s met an outage (%s): again in %s", job.entrypoint, job.id, type(exc).__name__, delay
                )
                raise RetryRequested(delay, reason=type(exc).__name__) from exc

        return run

    async def run_until_stopped(self) -> None:
        await self._run_forever()

    async def _run_forever(self) -> None:
        while not self._stopping.is_set():
            connection = None
            try:
                connection = await asyncpg.connect(self.dsn, timeout=10)
                manager = QueueManager(Queries(AsyncpgDriver(connection)))
                for name, handler in self.handlers.items():
                    manager.entrypoint(name, concurrency_limit=self.concurrency)(self._adapt(handler))
                self._manager = manager
                if self._stopping.is_set():  # stopped while connecting
                    return
                await manager.run(dequeue_timeout=timedelta(seconds=5), heartbeat_timeout=self.heartbeat_timeout)
            # InterfaceError: the connection was closed under the runner (killed while it waited between
            # two polls); like the others, it means reconnecting, never ending the runner.
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                logger.warning("job runner lost its database connection: %s", type(exc).__name__)
            finally:
                self._manager = None
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), RESTART_DELAY_SECONDS)
