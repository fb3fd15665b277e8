"""Attestation numbers: 80 random bits written as four groups of Crockford base32 (``7K3Q-9M2X-4HTR-8VWN``).

A number is the key of a public page, so it is drawn from ``secrets`` and never derived from an id. Crockford's
alphabet has no I, L, O or U: read aloud or typed again, a number is not mistaken for another; typing O for 0 or
I/L for 1, lower case or without the hyphens still finds it (``normalise``)."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS, GROUP_LENGTH = 4, 4
LENGTH = GROUPS * GROUP_LENGTH + GROUPS - 1  # with its hyphens: 19
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_number() -> str:
    """A fresh random number (80 bits)."""
    return _grouped("".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH)))


def normalise(typed: str) -> str | None:
    """The number as it is stored, from one as a person may type it; None when it cannot be one."""
    if len(typed) > 2 * LENGTH:
        return None
    compact = typed.strip().upper().replace("-", "").replace(" ", "").translate(_TYPED)
    if len(compact) != GROUPS * GROUP_LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return _grouped(compact)


def _grouped(compact: str) -> str:
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
