"""Media delivery follows RFC 9110: ranges, conditional requests, HEAD, MIME types, caching headers.

Each case runs against every delivery set-up: stream mode from the local store and from S3 (moto over
real HTTP); redirect mode is checked separately (the store then serves the bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.catalog import sync
from tests.helpers.database import REPOSITORY, make_settings, truncate_all

VIDEO = REPOSITORY / "media" / "mooc-video-02.mp4"
SIZE = VIDEO.stat().st_size
DATA = VIDEO.read_bytes()


@dataclass(frozen=True)
class Case:
    name: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    content_range: str | None = None
    body: slice | None = None
    method: str = "GET"


CASES = [
    Case("no range", body=slice(0, SIZE)),
    Case("apple probe 0-1", {"Range": "bytes=0-1"}, 206, f"bytes 0-1/{SIZE}", slice(0, 2)),
    Case("closed range", {"Range": "bytes=100-199"}, 206, f"bytes 100-199/{SIZE}", slice(100, 200)),
    Case("everything as a range", {"Range": "bytes=0-"}, 206, f"bytes 0-{SIZE - 1}/{SIZE}", slice(0, SIZE)),
    Case("open range", {"Range": "bytes=1000-"}, 206, f"bytes 1000-{SIZE - 1}/{SIZE}", slice(1000, SIZE)),
    Case("suffix range", {"Range": "bytes=-500"}, 206, f"bytes {SIZE - 500}-{SIZE - 1}/{SIZE}",
         slice(SIZE - 500, SIZE)),
    Case("end past the size is clipped", {"Range": f"bytes=10-{SIZE * 3}"}, 206, f"bytes 10-{SIZE - 1}/{SIZE}",
         slice(10, SIZE)),
    Case("suffix longer than the file", {"Range": f"bytes=-{SIZE * 2}"}, 206, f"bytes 0-{SIZE - 1}/{SIZE}",
         slice(0, SIZE)),
    Case("last byte", {"Range": f"bytes={SIZE - 1}-{SIZE - 1}"}, 206, f"bytes {SIZE - 1}-{SIZE - 1}/{SIZE}",
         slice(SIZE - 1, SIZE)),
    Case("unsatisfiable", {"Range": f"bytes={SIZE}-"}, 416, f"bytes */{SIZE}"),
    Case("unsatisfiable zero suffix", {"Range": "bytes=-0"}, 416, f"bytes */{SIZE}"),
    Case("invalid syntax is ignored", {"Range": "bytes=abc-def"}, 200, None, slice(0, SIZE)),
    Case("reversed range is invalid, ignored", {"Range": "bytes=500-100"}, 200, None, slice(0, SIZE)),
    Case("other unit is ignored", {"Range": "pages=1-2"}, 200, None, slice(0, SIZE)),
    Case("if-range with a stale etag gives everything", {"Range": "bytes=0-9", "If-Range": '"stale"'}, 200, None,
         slice(0, SIZE)),
    Case("if-range with a stale date gives everything",
         {"Range": "bytes=0-9", "If-Range": "Tue, 01 Jan 2019 00:00:00 GMT"}, 200, None, slice(0, SIZE)),
    Case("if-none-match star", {"If-None-Match": "*"}, 304),
    Case("if-match mismatch", {"If-Match": '"autre"'}, 412),
    Case("head ignores range", {"Range": "bytes=0-1"}, 200, None, None, "HEAD"),
    Case("head", {}, 200, None, None, "HEAD"),
]  # fmt: skip


@pytest.fixture(scope="module", params=["local", "s3"])
def client(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient[Any]]:
    truncate_all(database_url)
    overrides: dict[str, Any] = {}
    if request.param == "s3":
        overrides = request.getfixturevalue("s3_settings")
    settings = make_settings(database_url, tmp_path_factory.mktemp("media") / "var", **overrides)
    sync(settings)
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def video_path(client: TestClient[Any]) -> str:
    lessons = client.get("/api/v1/modules/dix-ans-de-recherche").json()["lessons"]
    url: str = next(lesson["media"]["url"] for lesson in lessons if lesson["slug"].startswith("les-premiers"))
    return url.removeprefix("http://testserver.local")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_ranges_and_conditions(client: TestClient[Any], video_path: str, case: Case) -> None:
    response = client.request(case.method, video_path, headers=case.headers)
    assert response.status_code == case.status, response.text[:200]
    assert response.headers.get("content-range") == case.content_range
    if case.status in {200, 206}:
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["etag"].startswith('"')
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["last-modified"].endswith("GMT")
    if case.body is not None:
        expected = DATA[case.body]
        assert int(response.headers["content-length"]) == len(expected)
        assert response.content == expected
    if case.method == "HEAD":
        assert response.content == b""
        assert int(response.headers["content-length"]) == SIZE


def test_conditional_requests_with_the_current_validators(client: TestClient[Any], video_path: str) -> None:
    first = client.get(video_path, headers={"Range": "bytes=0-1"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    not_modified = client.get(video_path, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    assert client.get(video_path, headers={"If-Modified-Since": modified}).status_code == 304
    partial = client.get(video_path, headers={"If-Range": etag, "Range": "bytes=0-9"})
    assert (partial.status_code, partial.content) == (206, DATA[:10])
    dated = client.get(video_path, headers={"If-Range": modified, "Range": "bytes=0-9"})
    assert dated.status_code == 206
    weak = client.get(video_path, headers={"If-Range": f"W/{etag}", "Range": "bytes=0-9"})
    assert weak.status_code == 200  # a weak validator never matches for ranges
    assert client.get(video_path, headers={"If-Match": etag}).status_code == 200


def test_several_ranges_give_multipart_byteranges(client: TestClient[Any], video_path: str) -> None:
    response = client.get(video_path, headers={"Range": "bytes=0-9, 100-109, 105-119"})
    assert response.status_code == 206
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1]
    assert int(response.headers["content-length"]) == len(response.content)
    parts = response.content.split(f"--{boundary}".encode())
    assert parts[-1] == b"--\r\n"
    bodies = []
    for part in parts[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        assert b"Content-Type: video/mp4" in head
        bodies.append((head.split(b"Content-Range: ")[1].decode(), body[:-2]))
    # overlapping ranges are coalesced
    assert bodies == [(f"bytes 0-9/{SIZE}", DATA[0:10]), (f"bytes 100-119/{SIZE}", DATA[100:120])]


def test_wrong_name_or_extension_is_404(client: TestClient[Any], video_path: str) -> None:
    folder, name = video_path.rsplit("/", 1)
    for wrong in [f"{folder}/autre.mp4", f"{folder}/{name[:-4]}.m4a", f"{folder}/{name}.mp4"]:
        response = client.get(wrong)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    missing = "/media/00000000-0000-0000-0000-000000000000/mooc-video-02.mp4"
    assert client.get(missing).status_code == 404
    assert client.get("/media/pas-un-uuid/mooc-video-02.mp4").status_code == 404


@pytest.mark.parametrize(
    ("ref", "mime"),
    [
        ("mooc-audio-01.m4a", "audio/x-m4a"),
        ("mooc-audio-05.mp3", "audio/mpeg"),
        ("artwork-webinaires.jpg", "image/jpeg"),
        ("artwork-mooc.png", "image/png"),
        ("webinar-2019-01.vtt", "text/vtt"),
        ("webinar-2019-01.chapters.json", "application/json+chapters"),
    ],
)
def test_mime_types(client: TestClient[Any], ref: str, mime: str, database_url: str) -> None:
    from tests.helpers.database import sql

    row = sql(database_url, "SELECT id, name, extension FROM media_asset WHERE ref = $1", ref)[0]
    if ref == "mooc-audio-05.mp3":  # a lesson of a module scheduled for later: its media are not public yet
        publish = "UPDATE module SET publication = 'published' WHERE id IN "
        publish += "(SELECT module_id FROM lesson WHERE media_id = $1)"
        sql(database_url, publish, row["id"])
    response = client.head(f"/media/{row['id']}/{row['name']}.{row['extension']}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == mime
    assert int(response.headers["content-length"]) == (REPOSITORY / "media" / ref).stat().st_size


def test_media_needs_no_account(client: TestClient[Any], video_path: str) -> None:
    # Podcast apps cannot send credentials: public enclosures are public.
    assert client.get(video_path, headers={"Range": "bytes=0-1"}).status_code == 206
