"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import unicodedata
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import cache
from importlib import resources
from typing import TypeVar

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from learning.lib.errors import ServiceUnavailable

T = TypeVar("T")

HASHING_NICENESS = 10  # the hashing threads' nice value (Linux schedules each thread on its own)


def _lower_priority() -> None:
    """Run this thread (a hashing thread) after every other thread when CPUs are short: a burst of sign-ups
    then slows the sign-ups, not every other request (argon2 releases the GIL and fills a core). SCHED_IDLE,
    not only a nice value: a nice-10 thread still delays a waking request by a few ms (bench/run limits, 100
    sign-ups at once: the other clients' p99 ×4.5 at nice 10, ×1.1 under SCHED_IDLE). The work still ends: an
    idle-class thread gets a small share of a busy CPU, and the wait for a slot is bounded."""
    thread = threading.get_native_id()
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed: normal priority
        os.setpriority(os.PRIO_PROCESS, thread, HASHING_NICENESS)
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("learning.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines() if line.strip())


def password_problem(password: str, *, email: str, min_length: int) -> str | None:
    """Why this password is refused, or None when it is acceptable."""
    if len(password) < min_length:
        return f"The password must have at least {min_length} characters."
    folded = unicodedata.normalize("NFKC", password).casefold()
    if folded in _common_passwords() or len(set(folded)) <= 2:
        return "This password is too common; choose another one."
    if folded == email.split("@", 1)[0].casefold() or folded == email.casefold():
        return "The password must not be your e-mail address."
    return None


class PasswordHashing:
    """Hashes and verifies passwords (argon2id, one lane), at most ``concurrency`` at a time in this process.

    Each argon2id computation fills its memory cost and one core: left to the thread pool (40 threads), a
    burst of sign-ups or logins grows the process by gigabytes and takes every core from the other requests.
    Waiting for a slot is bounded: past ``wait_seconds`` the request gets 503 with Retry-After. Nothing waits
    for a slot, or hashes, while holding a database connection (see ``AccountService``): a queue of sign-ups
    must not empty the pool.
    """

    def __init__(self, *, concurrency: int, wait_seconds: float, memory_kib: int, iterations: int) -> None:
        self._concurrency = concurrency
        self._wait_seconds = wait_seconds
        # One lane: libargon2 runs each lane in its own thread, so p=4 would fill four cores per hash.
        self._hasher = PasswordHasher(time_cost=iterations, memory_cost=memory_kib, parallelism=1)
        self._dummy: str | None = None
        self._limiter: anyio.CapacityLimiter | None = None  # made in the event loop, on first use
        self._threads: ThreadPoolExecutor | None = None  # its own threads, at a lower priority

    @property
    def waiting(self) -> int:
        """Hashes and verifications waiting for a slot now."""
        return 0 if self._limiter is None else self._limiter.statistics().tasks_waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """One hashing slot, held for the block (what each hash and verification takes); 503 past the wait."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        limiter = self._limiter
        acquired = False
        with anyio.move_on_after(self._wait_seconds):  # bounds the wait for a slot, not the work
            await limiter.acquire()
            acquired = True
        if not acquired:
            raise ServiceUnavailable("Too many password checks at once; try again shortly.", retry_after=2)
        try:
            yield
        finally:
            limiter.release()

    async def _run(self, work: Callable[[], T]) -> T:
        async with self.slot():
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    self._concurrency, thread_name_prefix="password-hashing", initializer=_lower_priority
                )
            return await asyncio.get_running_loop().run_in_executor(self._threads, work)

    def close(self) -> None:
        """Let the hashing threads end (the app's shutdown); a later hash starts new ones."""
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False)

    async def hash(self, password: str) -> str:
        return await self._run(lambda: self._hasher.hash(password))

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made under other parameters than today's (then a login replaces it)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False

    def _dummy_hash(self) -> str:
        """Verifying against this keeps a login for an unknown e-mail as slow as one for a known e-mail. Made
        on first use, not at start-up: every process that builds the app would pay one hash."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("not-a-real-password-but-a-timing-equaliser")
        return self._dummy

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; as slow for a missing hash (an unknown account) as for a real one."""

        def verify() -> bool:
            try:
                return self._hasher.verify(password_hash or self._dummy_hash(), password) and password_hash is not None
            except (VerificationError, InvalidHashError):
                return False

        return await self._run(verify)


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()
