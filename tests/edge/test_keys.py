"""Cache keys: the path and only the query parameters the route reads, canonical; each route's declaration
matches the query parameters its OpenAPI operation lists."""

from __future__ import annotations

import time
from typing import Any

from litestar import HttpMethod
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from learning.edge.keys import EDGE_QUERY, PAGE, RequestKeys, as_int, as_words


def _keys() -> RequestKeys:
    keys = RequestKeys()
    keys.declare("/feeds/modules/{filename:str}", {})
    keys.declare("/api/v1/search", {**PAGE, "q": as_words})
    keys.declare("/api/v1/webinars/{series_slug:str}", {**PAGE, "year": as_int})
    return keys


def test_parameters_the_route_does_not_read_make_no_new_key() -> None:
    keys = _keys()
    feed = "/feeds/modules/m.xml"
    assert {keys.key(feed, f"v={n}".encode()) for n in range(1000)} == {feed}
    assert keys.key(feed, b"") == feed
    assert keys.key("/api/v1/search", b"utm=1&q=elus&x=2") == keys.key("/api/v1/search", b"q=elus")


def test_declared_parameters_are_sorted_and_normalised() -> None:
    keys = _keys()
    search = keys.key("/api/v1/search", b"q=%C3%89lus%20%20locaux&limit=05&offset=0")
    assert search == keys.key("/api/v1/search", b"offset=0&limit=5&q=%C3%A9lus+locaux")
    assert search != keys.key("/api/v1/search", b"q=%C3%A9lus&limit=6")
    series = "/api/v1/webinars/s"
    assert keys.key(series, b"year=2019") != keys.key(series, b"year=2020")
    assert keys.key(series, b"year=abc") != keys.key(series, b"year=")  # refused by the route, never kept
    # The framework reads the first of a repeated parameter: their order is kept.
    assert keys.key(series, b"limit=1&limit=2") != keys.key(series, b"limit=2&limit=1")
    # A value holding "&" is not two parameters.
    assert keys.key(series, b"limit=5%26year%3D2019") != keys.key(series, b"limit=5&year=2019")


def test_a_path_no_route_declares_has_no_key() -> None:
    keys = _keys()
    assert keys.key("/api/v1/ping", b"") is None
    assert keys.key("/feeds/modules/a/b.xml", b"") is None  # {filename:str} is one segment
    assert keys.key("/api/v1/search/more", b"q=x") is None


def test_every_kept_route_declares_exactly_the_query_parameters_it_documents(client: TestClient[Any]) -> None:
    schema = client.app.openapi_schema.to_schema()
    declared: dict[str, set[str]] = {}
    for route in client.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if EDGE_QUERY in handler.opt and HttpMethod.GET in handler.http_methods:
                declared[route.path] = set(handler.opt[EDGE_QUERY])
    assert {"/api/v1/search", "/api/v1/modules", "/feeds/modules/{filename:str}"} <= declared.keys()
    assert "/feeds/private/{token:str}/modules/{filename:str}" not in declared  # private: never kept
    for path, names in declared.items():
        documented = path.replace(":str}", "}").replace(":uuid}", "}")
        operation = schema["paths"][documented]["get"]
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert names == query, path


def _listening(client: TestClient[Any]) -> None:
    deadline = time.monotonic() + 10
    while not client.app.state.edge.hub.active:  # only a listening edge keeps answers
        assert time.monotonic() < deadline, "the notification hub never connected"
        time.sleep(0.02)


def test_catalog_answers_are_kept_per_declared_parameter_and_shared_across_unknown_ones(
    client: TestClient[Any],
) -> None:
    _listening(client)
    answers = client.app.state.edge.answers
    first = client.get("/api/v1/modules?limit=1")
    assert first.status_code == 200
    assert answers.entries == 1
    for n in range(50):
        again = client.get(f"/api/v1/modules?utm_source={n}&limit=1")
        assert again.headers.get("x-answered-by") == "edge"
        assert again.content == first.content
    other = client.get("/api/v1/modules?limit=2&utm_source=1")
    assert other.headers.get("x-answered-by") != "edge"
    assert other.json()["limit"] == 2
    assert answers.entries == 2
