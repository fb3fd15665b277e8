"""Attestation numbers: random, readable, and found again as a person types them."""

from __future__ import annotations

import re

from learning.attestations.numbers import new_number, normalise


def test_numbers_are_four_groups_of_crockford_base32_and_differ() -> None:
    numbers = {new_number() for _ in range(1000)}
    assert len(numbers) == 1000
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}", number) for number in numbers)


def test_a_number_typed_loosely_is_read_as_the_same_number() -> None:
    assert normalise("7k3q 9m2x-4htr8vwn") == "7K3Q-9M2X-4HTR-8VWN"
    assert normalise("O1LI-0000-0000-0000") == "0111-0000-0000-0000"  # O is 0, I and L are 1


def test_a_string_that_cannot_be_a_number_is_refused() -> None:
    for typed in ("", "7K3Q-9M2X-4HTR", "7K3Q-9M2X-4HTR-8VWU", "7K3Q-9M2X-4HTR-8VWN-0", "x" * 1000):
        assert normalise(typed) is None
