"""The nesting measure behind the JSON depth cap: exact at the limit, blind to brackets inside strings."""

from __future__ import annotations

import json

import pytest

from learning.lib.json_bodies import nesting_exceeds


def _nested(depth: int) -> bytes:
    value: object = 1
    for level in range(depth):
        value = [value] if level % 2 else {"k": value, "s": "]]}}[[{{"}
    return json.dumps(value).encode()


@pytest.mark.parametrize("depth", [1, 5, 31, 32])
def test_bodies_up_to_the_limit_pass(depth: int) -> None:
    assert not nesting_exceeds(_nested(depth), 32)


@pytest.mark.parametrize("depth", [33, 34, 300])
def test_bodies_past_the_limit_are_caught(depth: int) -> None:
    assert nesting_exceeds(_nested(depth), 32)


def test_many_shallow_containers_pass() -> None:
    events = {"events": [{"id": str(i), "result": {"extensions": {"a": [1, 2]}}} for i in range(5000)]}
    assert not nesting_exceeds(json.dumps(events).encode(), 32)


def test_escaped_quotes_do_not_end_a_string() -> None:
    body = json.dumps({"text": 'a "quoted" [[[[[[[[[[ ' * 10}).encode()
    assert not nesting_exceeds(body, 4)


def test_a_deep_body_cut_short_is_caught() -> None:
    assert nesting_exceeds(b"[" * 1000 + b"]" * 5, 32)
