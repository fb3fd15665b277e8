"""Suite ``resets``: a password-reset request answers alike for an address with an account and one without
(issue 23's "Done when": status, body and time within noise).

The app in this process (Litestar's test client over ASGI, an embedded PostgreSQL, jobs in process so the mail
goes to the outbox), one learner account. 400 requests, alternating between the learner's address and unknown
ones (each a new address), the limits raised out of the way. Project: the median time of the known address's
requests; baseline: the unknown ones'. Target: the ratio within 0.8–1.25 (reported as ≤ 1.25, and the reverse
ratio in the notes). Status and body are compared too: any difference fails the suite."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from litestar.testing import TestClient

from bench.harness import Result, SuiteReport, bench_database, publish
from learning.app import create_app
from learning.config import Settings
from learning.db.migrate import upgrade

ROUNDS = 200


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    known_times: list[float] = []
    unknown_times: list[float] = []
    with bench_database() as url, tempfile.TemporaryDirectory(prefix="learning-bench-reset-") as tmp:
        upgrade(url)
        settings = Settings(
            database_url=url, data_dir=Path(tmp), password_reset_limit=100_000, register_ip_limit=100,
            secret_key="bench-secret-key-not-for-production-0123456789", _env_file=None,  # noqa: S106
        )  # fmt: skip
        with TestClient(app=create_app(settings)) as client:
            email = "apprenante@example.org"
            created = client.post("/api/v1/auth/register", json={"email": email, "password": "une-phrase-solide-1"})
            assert created.status_code == 201, created.text
            answers = set()
            for index in range(ROUNDS * 2):
                address = email if index % 2 == 0 else f"inconnu-{uuid.uuid4().hex}@example.org"
                started = time.perf_counter()
                answer = client.post("/api/v1/auth/password-reset", json={"email": address})
                elapsed = time.perf_counter() - started
                answers.add((answer.status_code, answer.content))
                (known_times if address == email else unknown_times).append(elapsed)
    if len(answers) != 1:
        print(f"  the answers differ: {answers}", flush=True)
        return 1
    known, unknown = statistics.median(known_times) * 1000, statistics.median(unknown_times) * 1000
    print(f"  median: known address {known:.2f} ms, unknown address {unknown:.2f} ms", flush=True)
    command = "bench/run resets (Litestar test client, embedded PostgreSQL, 200 requests each, alternating)"
    results = [
        Result(
            "password-reset request, median time: an address with an account (baseline: addresses without)",
            known, unknown, "ms", command, target=1.25, higher_is_better=False,
        ),
    ]  # fmt: skip
    notes = [
        f"Every one of the {ROUNDS * 2} answers had the same status and body ({next(iter(answers))[0]}). The "
        "request does the same work either way (the limits, one job queued); the lookup, the link and the message "
        "happen in the job. The reverse ratio (unknown/known) is "
        f"{unknown / known:.2f}: within noise both ways is what the target asks.",
        "The 95th percentiles: known "
        f"{statistics.quantiles(known_times, n=20)[-1] * 1000:.2f} ms, unknown "
        f"{statistics.quantiles(unknown_times, n=20)[-1] * 1000:.2f} ms.",
    ]
    publish(
        SuiteReport(
            suite="resets", title="password-reset requests answer alike", project_label="known address",
            baseline_label="unknown address", results=results, notes=notes,
        )
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
