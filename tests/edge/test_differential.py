"""The edge answers exactly as the routes do: the whole conditional and range matrix, feeds (plain and
gzip) and catalog answers, with the edge on and off — same status, headers (apart from the marker) and body.
And the marker shows the edge really answered: these tests fail if it is taken out of the app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.edge.conftest import Pair
from tests.media.test_delivery import CASES as MEDIA_CASES

PAST = "Tue, 01 Jan 2019 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"
NOT_COMPARED = {"date", "server", "x-request-id", "x-answered-by"}

# Header sets sent to every public document; "{etag}" and "{gz}" become the current validators.
DOCUMENT_HEADERS: list[dict[str, str]] = [
    {},
    {"Accept-Encoding": "gzip"},
    {"Accept-Encoding": "gzip, deflate, br"},
    {"Accept-Encoding": "gzip;q=0"},
    {"Accept-Encoding": "*;q=1, gzip;q=0"},
    {"Accept-Encoding": "*"},
    {"Accept-Encoding": "gzip;q=abc"},
    {"Accept-Encoding": "gzip;q=1.5"},
    {"Accept-Encoding": "identity"},
    {"If-None-Match": "{etag}"},
    {"If-None-Match": "{gz}", "Accept-Encoding": "gzip"},
    {"If-None-Match": "{etag}", "Accept-Encoding": "gzip"},  # the plain tag does not validate the gzip copy
    {"If-None-Match": 'W/{etag}, "autre"'},
    {"If-None-Match": "*"},
    {"If-None-Match": '"autre"'},
    {"If-Modified-Since": FUTURE},
    {"If-Modified-Since": PAST},
    {"If-Modified-Since": "pas une date"},
    {"If-Modified-Since": FUTURE, "If-None-Match": '"autre"'},  # If-None-Match decides
    {"If-Match": '"autre"'},
    {"If-Match": "*"},
    {"If-Unmodified-Since": PAST},
    {"Range": "bytes=0-1"},  # ignored for documents
]


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in NOT_COMPARED}
    body = response.content
    _, _, boundary = headers.get("content-type", "").partition("boundary=")
    if boundary:  # multipart/byteranges: a random boundary per answer
        headers["content-type"] = headers["content-type"].replace(boundary, "BOUNDARY")
        body = body.replace(boundary.encode(), b"BOUNDARY")
    return response.status_code, headers, body


def _filled(headers: dict[str, str], etag: str) -> dict[str, str]:
    gz = etag[:-1] + '-gz"'
    return {k: v.replace("{etag}", etag).replace("{gz}", gz) for k, v in headers.items()}


def _ask(pair: Pair, method: str, path: str, headers: dict[str, str]) -> tuple[httpx.Response, httpx.Response]:
    # The clients would add their own Accept-Encoding: send exactly the matrix's.
    # Values go as bytes: non-ASCII digits (« ² ») must reach the server as sent.
    sent = {"accept-encoding": b"", **{k.lower(): v.encode("latin-1") for k, v in headers.items()}}
    on = pair.on.request(method, path, headers=sent)
    off = pair.off.request(method, path, headers=sent)
    return on, off


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_documents_answer_alike_with_the_edge_on_and_off(pair: Pair, method: str) -> None:
    answered_by_edge = 0
    for path in pair.documents:
        etag = pair.off.get(path, headers={"accept-encoding": ""}).headers["etag"]
        for template in DOCUMENT_HEADERS:
            headers = _filled(template, etag)
            on, off = _ask(pair, method, path, headers)
            assert _comparable(on) == _comparable(off), (path, headers)
            assert off.headers.get("x-answered-by") is None
            if on.status_code in {200, 304}:  # every stored answer is the edge's to send
                assert on.headers.get("x-answered-by") == "edge", (path, headers, on.status_code)
                answered_by_edge += 1
            else:
                assert on.headers.get("x-answered-by") is None  # 412: the route explains it
    assert answered_by_edge >= len(pair.documents) * 10


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_media_answers_alike_with_the_edge_on_and_off(pair: Pair, method: str) -> None:
    etag = pair.off.head(pair.media).headers["etag"]
    cases: list[dict[str, str]] = [case.headers for case in MEDIA_CASES]
    cases += [
        {"If-None-Match": etag},
        {"If-None-Match": etag, "Range": "bytes=0-1"},
        {"If-Range": etag, "Range": "bytes=10-19"},
        {"If-Match": etag, "Range": "bytes=0-1"},
        {"If-Modified-Since": FUTURE},
        {"Range": "bytes=0-" + "9" * 4301},
        {"Range": "bytes=" + "1" * 40 + "-"},
        {"Range": "bytes=\u00b2-5"},
        {"Range": "bytes=0-1,4-5"},
    ]
    edge_answers = 0
    for headers in cases:
        on, off = _ask(pair, method, pair.media, headers)
        assert _comparable(on) == _comparable(off), headers
        if on.headers.get("x-answered-by") == "edge":
            edge_answers += 1
        if on.status_code == 304:
            assert on.headers.get("x-answered-by") == "edge", headers
    assert edge_answers >= 2  # at least the two 304s


def test_the_access_log_says_which_path_answered(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="learning.access")
    path = pair.documents[1]
    pair.on.get(path)
    pair.off.get(path)
    answered = [getattr(r, "fields", {}).get("answered_by") for r in caplog.records if r.name == "learning.access"]
    assert answered == ["edge", "app"]


def test_a_failing_edge_falls_through_to_the_app(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import learning.edge.component as component

    def broken(*_: Any) -> Any:
        raise RuntimeError("planning failed")

    monkeypatch.setattr(component, "document_answer", broken)
    caplog.set_level("WARNING", logger="learning.edge")
    path = pair.documents[-1]
    response = pair.on.get(path, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("x-answered-by") is None  # the route answered
    assert response.content == pair.off.get(path, headers={"accept-encoding": "gzip"}).content
    failures = [r for r in caplog.records if r.name == "learning.edge"]
    assert len(failures) == 1
    assert failures[0].fields == {"error": "RuntimeError", "path": path}  # type: ignore[attr-defined]
    assert failures[0].exc_info is None
