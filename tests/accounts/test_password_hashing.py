"""Password hashes: argon2id under the configured parameters, one lane; older hashes replaced at sign-in."""

from __future__ import annotations

import os
import threading
from typing import Any

from argon2 import PasswordHasher, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from learning.accounts.passwords import HASHING_NICENESS, PasswordHashing
from learning.config import Settings
from tests.helpers.accounts import PASSWORD, login, register
from tests.helpers.database import sql


def _stored_hash(settings: Settings, email: str) -> str:
    rows = sql(settings.require_database_url(), "SELECT password_hash FROM user_account WHERE email = $1", email)
    return str(rows[0]["password_hash"])


def test_new_hashes_use_the_configured_parameters_and_one_lane(make_client: Any, settings: Settings) -> None:
    client = make_client(password_hash_memory_kib=12_288, password_hash_iterations=3)
    register(client, "lea@example.org")
    parameters = extract_parameters(_stored_hash(settings, "lea@example.org"))
    # One lane: libargon2 runs one thread per lane, and each hash must take one core, not four.
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (12_288, 3, 1)


def test_a_hash_made_under_older_parameters_is_replaced_at_sign_in(make_client: Any, settings: Settings) -> None:
    client = make_client()
    account = register(client, "ancien@example.org")
    # As stored before this change: the RFC 9106 "low memory" profile (64 MiB, t=3, four lanes).
    old = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).hash(PASSWORD)
    url = settings.require_database_url()
    sql(url, "UPDATE user_account SET password_hash = $1 WHERE email = $2", old, "ancien@example.org")

    signed_in = login(client, "ancien@example.org")
    renewed = _stored_hash(settings, "ancien@example.org")
    assert renewed != old
    parameters = extract_parameters(renewed)
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
        settings.password_hash_memory_kib, settings.password_hash_iterations, 1
    )  # fmt: skip
    # The same password still signs in, and the tokens issued before stay valid (the password did not change).
    login(client, "ancien@example.org")
    assert client.get("/api/v1/me", headers=account.headers).status_code == 200
    assert client.get("/api/v1/me", headers=signed_in.headers).status_code == 200
    assert _stored_hash(settings, "ancien@example.org") == renewed  # replaced once, not at every sign-in


async def test_hashing_runs_after_every_other_thread_of_the_server() -> None:
    """A burst of sign-ups must slow the sign-ups, not the other requests: argon2 fills a core while the GIL is
    released, so the hashing threads run under SCHED_IDLE (bench/run limits: the observers' ping p99 during
    100 concurrent sign-ups from 100 clients was ×4.5 of unloaded at nice 10 alone)."""
    hashing = PasswordHashing(concurrency=1, wait_seconds=5, memory_kib=1024, iterations=1)
    try:
        policy, niceness = await hashing._run(
            lambda: (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
    finally:
        hashing.close()
    assert policy == os.SCHED_IDLE
    assert niceness == HASHING_NICENESS
    # The event loop's own thread keeps its normal priority.
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
