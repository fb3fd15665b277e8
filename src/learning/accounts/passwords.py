"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" parameters

# Verifying against this keeps a login for an unknown e-mail as slow as one for a known e-mail.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-a-timing-equaliser")


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


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify)


def normalize_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()
