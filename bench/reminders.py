"""Suite ``reminders``: one session's reminders to 10,000 registered learners, handed to an SMTP server (issue 23's
"Done when").

An embedded PostgreSQL with the shipped content synced; one of its sessions made to start in 30 minutes (no
replay yet), 10,000 learners registered for it (inserted directly). An ``aiosmtpd`` sink on loopback stands for
the SMTP server and counts what it accepts. Project: the registrations' due pass (``jobs.registrations.send_due``:
one reminder composed per learner, French text and HTML with the event attached, queued as rows and one
``send_mail`` job per batch of 500), then the job runner sending them (``MailSender``: one SMTP connection per
job), timed from the pass's start to the sink's 10,000th message. Baseline, in the same run and against the same
sink: a bare ``aiosmtplib.send`` loop handing over 10,000 copies of one such message, one connection each (what
a script that loops over the addresses does). Targets: all 10,000 within 60 s; the rate reported against the bare
loop's."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
from aiosmtpd.controller import Controller

from bench.harness import Result, SuiteReport, bench_database, free_port, publish
from learning.admin.commands import sync_content
from learning.config import Settings
from learning.db.migrate import upgrade
from learning.db.session import create_engine, create_sessionmaker, libpq_url
from learning.jobs.registrations import send_due
from learning.lib.queue import SEND_MAIL, JobRunner
from learning.mail.services import MailSender
from learning.mail.transport import SmtpTransport
from learning.paths import project_root

BUDGET_S = 60.0


class Sink:
    """Counts the messages it accepts; ``wait_for`` returns when it has ``count`` (bounded)."""

    def __init__(self) -> None:
        self.count = 0
        self.sample = b""
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._changed:
            self.count += 1
            self.sample = self.sample or envelope.content
            self._changed.notify_all()
        return "250 OK"

    def reset(self) -> None:
        with self._changed:
            self.count = 0

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.count < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True


async def _prepare(url: str, learners: int) -> str:
    """One shipped session made to come in 30 minutes, ``learners`` registered for it; its title."""
    connection = await asyncpg.connect(libpq_url(url))
    try:
        row = await connection.fetchrow(
            "UPDATE webinar_session SET replay_id = NULL, scheduled_at = now() + interval '30 minutes' "
            "WHERE id = (SELECT id FROM webinar_session ORDER BY scheduled_at LIMIT 1) RETURNING id, title, sequence"
        )
        assert row is not None
        await connection.execute(
            "INSERT INTO user_account (id, email, password_hash, role, token_version, created_at, updated_at) "
            "SELECT gen_random_uuid(), 'apprenant' || i || '@example.org', 'x', 'learner', 1, now(), now() "
            "FROM generate_series(1, $1) AS i",
            learners,
        )
        await connection.execute(
            "INSERT INTO session_registration (id, user_id, session_id, created_at, told_sequence) "
            "SELECT gen_random_uuid(), id, $1, now(), $2 FROM user_account WHERE email LIKE 'apprenant%@example.org'",
            row["id"], row["sequence"],
        )  # fmt: skip
        await connection.execute("VACUUM ANALYZE")
        return str(row["title"])
    finally:
        await connection.close()


async def _project(settings: Settings, sink: Sink, learners: int) -> float:
    engine = create_engine(settings.require_database_url(), pool_size=4)
    sessionmaker = create_sessionmaker(engine)
    sender = MailSender(sessionmaker, SmtpTransport(settings), settings.mail_from)
    runner = JobRunner(libpq_url(settings.require_database_url()), {SEND_MAIL: sender.handle})
    try:
        started = time.perf_counter()
        queued = await send_due(sessionmaker, settings)
        print(f"  queued: {queued} in {time.perf_counter() - started:.1f} s", flush=True)
        await runner.start()
        done = await asyncio.to_thread(sink.wait_for, learners, BUDGET_S * 5)
        elapsed = time.perf_counter() - started
        if not done:
            raise SystemExit(f"only {sink.count} of {learners} messages reached the sink")
        return elapsed
    finally:
        await runner.stop()
        await engine.dispose()


async def _baseline(port: int, message: bytes, learners: int, sink: Sink) -> float:
    started = time.perf_counter()
    for index in range(learners):
        await aiosmtplib.send(
            message, sender="ne-pas-repondre@alliances.test", recipients=[f"apprenant{index}@example.org"],
            hostname="127.0.0.1", port=port, start_tls=False, timeout=30,
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert sink.count >= learners
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__)
    parser.add_argument("--learners", type=int, default=10_000)
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    learners: int = args.learners
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with bench_database() as url, tempfile.TemporaryDirectory(prefix="learning-bench-mail-") as tmp:
            upgrade(url)
            settings = Settings(
                database_url=url, data_dir=Path(tmp), content_dir=project_root(), smtp_host="127.0.0.1", smtp_port=port,
                smtp_starttls=False, mail_from="Les alliances <ne-pas-repondre@alliances.test>",
                secret_key="bench-secret-key-not-for-production-0123456789", _env_file=None,  # noqa: S106
            )  # fmt: skip
            asyncio.run(sync_content(settings, project_root()))
            asyncio.run(_prepare(url, learners))
            project_s = asyncio.run(_project(settings, sink, learners))
            print(f"  project: {learners:,} reminders handed to SMTP in {project_s:.1f} s", flush=True)
            sample = sink.sample
            sink.reset()
            baseline_s = asyncio.run(_baseline(port, sample, learners, sink))
            print(f"  bare aiosmtplib loop: {learners:,} messages in {baseline_s:.1f} s", flush=True)
    finally:
        controller.stop()
    command = f"bench/run reminders (embedded PostgreSQL, aiosmtpd sink on loopback, {learners:,} learners)"
    results = [
        Result(
            f"{learners:,} reminders of one session, due pass to the sink's last message (baseline column: the "
            "budget)", project_s, BUDGET_S, "s", command, target=1.0, higher_is_better=False,
        ),
        Result(
            "messages per second handed to SMTP: the app's pipeline against a bare aiosmtplib.send loop (one "
            "connection per message) over the same sink", learners / project_s, learners / baseline_s, "msg/s",
            command,
        ),
    ]  # fmt: skip
    notes = [
        f"A message is {len(sample):,} bytes: French text and HTML parts, the session's event (seance.ics) "
        "attached, List-Unsubscribe headers. The project's time includes composing and storing every message "
        "(PostgreSQL rows, one send_mail job per 500) as well as sending them; the bare loop only sends copies "
        "of one message already composed.",
        "Each send_mail job sends its run of messages (500) over one SMTP connection, marking them sent 50 to a "
        "transaction. The sink runs in the bench's own process (a thread), so both columns share its CPU.",
        "How it got under the budget: 131.6 s at first — composing with email.message.EmailMessage (5 ms a "
        "message: its generator parsed back every header), the event rendered again for each learner, a flush "
        "and a job per message, and a connection per message. Now the MIME is written directly (0.24 ms), the "
        "event once per session version, the rows flushed once per batch and sent by one job per 500.",
    ]
    publish(
        SuiteReport(
            suite="reminders", title="reminders to 10,000 registered learners", project_label="app",
            baseline_label="budget or bare loop", results=results, notes=notes,
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
