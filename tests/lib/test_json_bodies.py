"""JSON bodies: the nesting measure behind the depth cap (exact at the limit, blind to brackets inside
strings), and the strict typing of a body on a small app of its own (every type of the rules, query
parameters beside it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar, post
from litestar.params import FromQuery, JSONBody
from litestar.testing import TestClient

from learning.lib.errors import EXCEPTION_HANDLERS
from learning.lib.json_bodies import bounded_request_class, nesting_exceeds


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


def test_a_string_ending_in_a_backslash_ends_there() -> None:
    """``"x\\\\"`` is a string ending in a backslash: what follows is structure, and deep."""
    body = json.dumps({"a": "x\\", "b": '\\"[', "c": json.loads(_nested(40))})
    assert nesting_exceeds(body.encode(), 32)


_TEXT = st.text(alphabet=st.sampled_from('[]{}"\\ab/\u00e9\n'), max_size=6)
_VALUES = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=60,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    return 0


@given(value=_VALUES, limit=st.integers(min_value=0, max_value=8))
def test_the_measure_agrees_with_a_parser_on_any_body(value: object, limit: int) -> None:
    """Against the depth a JSON parser finds, whatever brackets, quotes and backslashes the strings hold."""
    body = json.dumps(value, ensure_ascii=False).encode()
    assert nesting_exceeds(body, limit) == (_depth(value) > limit)


def test_a_deep_body_cut_short_is_caught() -> None:
    assert nesting_exceeds(b"[" * 1000 + b"]" * 5, 32)


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    flag: bool
    count: int = 0
    ratio: float = 0.0
    at: datetime | None = None
    ref: uuid.UUID | None = None


@post("/sample")
async def take_sample(data: JSONBody[Sample], limit: FromQuery[int] = 0) -> dict[str, Any]:
    return {"limit": limit, **msgspec.structs.asdict(data)}


@pytest.fixture(scope="module")
def sample_client() -> Iterator[TestClient[Any]]:
    app = Litestar([take_sample], request_class=bounded_request_class(32), exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"flag": "true"}, "flag"),
        ({"flag": 1}, "flag"),
        ({"flag": True, "count": "5"}, "count"),
        ({"flag": True, "count": 5.5}, "count"),
        ({"flag": True, "count": 1e30}, "count"),
        ({"flag": True, "ratio": "0.5"}, "ratio"),
        ({"flag": True, "at": 0}, "at"),
        ({"flag": True, "at": 1.5e9}, "at"),
        ({"flag": True, "ref": 7}, "ref"),
        ([], "data"),
        (None, "data"),
    ],
)
def test_a_value_of_another_json_type_is_a_422_problem(sample_client: TestClient[Any], body: Any, key: str) -> None:
    response = sample_client.post("/sample", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["key"], e["source"]) for e in response.json()["errors"]] == [(key, "body")]


def test_values_of_the_documented_json_types_are_accepted(sample_client: TestClient[Any]) -> None:
    ref = uuid.uuid4()
    body = {"flag": False, "count": 5.0, "ratio": 1, "at": "2020-01-01T00:00:00+01:00", "ref": str(ref)}
    response = sample_client.post("/sample?limit=7", json=body)  # the query parameter, a string, stays lax
    assert response.status_code == 201, response.text
    assert response.json() == {"limit": 7, "flag": False, "count": 5, "ratio": 1.0,
                               "at": "2020-01-01T00:00:00+01:00", "ref": str(ref)}  # fmt: skip


@pytest.mark.parametrize("body", [b'{"flag": "true"', b'{"flag": true, "count": 1e999999999', b"{flag: 1}"])
def test_a_malformed_body_is_still_400_even_after_a_type_error(sample_client: TestClient[Any], body: bytes) -> None:
    response = sample_client.post("/sample", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
