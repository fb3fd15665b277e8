"""Side files (artwork, transcripts, chapters) sent whole to a session or lesson: judged from their bytes,
size-limited while they stream, stored, attached, replaced and detached; nothing stored when refused."""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from learning.storage import StorageUnavailable
from learning.uploads.sidefile_artwork import InvalidArtwork, check_artwork
from learning.uploads.sidefile_chapters import InvalidChapters, check_chapters
from learning.uploads.sidefile_services import SideFileService
from learning.uploads.sidefile_transcripts import InvalidTranscript, check_transcript
from tests.helpers.accounts import Account
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import sql
from tests.helpers.media import make_jpeg, make_png, make_text

MiB = 1024 * 1024
SESSION = "2019-01-lancement-du-cycle"  # ships with a replay, a transcript and chapters
SESSION_FILES = f"/api/v1/admin/webinars/{SERIES}/sessions/{SESSION}/files"
BASE_URL = "http://testserver.local"

VTT = """WEBVTT

NOTE made for the tests

1
00:00:00.000 --> 00:00:04.000
Bonjour à toutes et à tous.

00:04.000 --> 00:00:08.500 align:start
Une cue sans identifiant, heures omises au début.
"""
SRT = """1
00:00:00,000 --> 00:00:04,000
Bonjour à toutes et à tous.

2
00:00:04,000 --> 00:00:08,500
Deuxième réplique.
"""
CHAPTERS = {
    "version": "1.2.0",
    "author": "Le RAMEAU",
    "title": "Lancement",
    "podcastName": "Webinaires 2019",
    "chapters": [
        {"startTime": 0, "title": "Ouverture"},
        {"startTime": 2.5, "title": "La plateforme", "url": "https://example.org/", "endTime": 5},
    ],
}


@pytest.fixture
def synced(settings: Settings) -> Settings:
    sync(settings)
    return settings


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "fichiers"
    folder.mkdir()
    return folder


def _put(
    client: TestClient[Any], admin: Account, kind: str, content: bytes, content_type: str, path: str = SESSION_FILES
) -> Any:
    headers = {**admin.headers, "Content-Type": content_type}
    return client.put(f"{path}/{kind}", content=content, headers=headers)


def _session_row(settings: Settings) -> Any:
    rows = sql(settings.require_database_url(), "SELECT * FROM webinar_session WHERE slug = $1", SESSION)
    return rows[0]


def _asset(settings: Settings, asset_id: Any) -> Any:
    return sql(settings.require_database_url(), "SELECT * FROM media_asset WHERE id = $1::uuid", str(asset_id))[0]


def _stored_files(settings: Settings) -> set[Path]:
    root = settings.media_root
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def _asset_count(settings: Settings) -> int:
    count: int = sql(settings.require_database_url(), "SELECT count(*) FROM media_asset")[0][0]
    return count


def _served(client: TestClient[Any], url: str) -> Any:
    assert url.startswith(BASE_URL + "/media/")
    return client.get(url.removeprefix(BASE_URL))


def _detail(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/webinars/{SERIES}/sessions/{SESSION}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _eventually(client: TestClient[Any], field: str, expected: Any) -> dict[str, Any]:
    """The public session detail once its ``field`` equals ``expected`` (the catalog cache follows the database
    through NOTIFY, asynchronously)."""
    deadline = time.monotonic() + 5
    while True:
        detail = _detail(client)
        value = detail[field]["id"] if detail[field] is not None else None
        if value == expected or time.monotonic() > deadline:
            assert value == expected, f"{field} is {value}, expected {expected}"
            return detail
        time.sleep(0.05)  # polling for the cache invalidation, not a timing assertion


def _lesson_with_media(settings: Settings) -> tuple[str, str, float]:
    rows = sql(
        settings.require_database_url(),
        "SELECT module.slug AS module, lesson.slug AS lesson, media_asset.duration_seconds AS duration "
        "FROM lesson JOIN module ON module.id = lesson.module_id JOIN media_asset ON media_asset.id = lesson.media_id "
        "WHERE media_asset.duration_seconds IS NOT NULL ORDER BY module.slug, lesson.position LIMIT 1",
    )
    return rows[0]["module"], rows[0]["lesson"], rows[0]["duration"]


def _cmyk_jpeg_header(side: int) -> bytes:
    """The start of a CMYK JPEG: SOI, then a baseline frame header with four components."""
    components = b"".join(bytes([index, 0x11, 0]) for index in range(1, 5))
    frame = bytes([8]) + side.to_bytes(2, "big") + side.to_bytes(2, "big") + bytes([4]) + components
    return b"\xff\xd8" + b"\xff\xc0" + (len(frame) + 2).to_bytes(2, "big") + frame + b"\xff\xd9"


# --------------------------------------------------------------------------- artwork


@pytest.mark.parametrize(
    ("maker", "content_type", "extension"), [(make_jpeg, "image/jpeg", "jpg"), (make_png, "image/png", "png")]
)
def test_square_artwork_is_attached_and_served(
    client: TestClient[Any],
    admin: Account,
    synced: Settings,
    files: Path,
    maker: Any,
    content_type: str,
    extension: str,
) -> None:
    picture = maker(files / f"art.{extension}", width=1400, height=1400).read_bytes()
    response = _put(client, admin, "artwork", picture, content_type)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["mime_type"], body["size_bytes"]) == ("artwork", content_type, len(picture))
    assert (body["width"], body["height"]) == (1400, 1400)
    assert body["url"] == f"{BASE_URL}/media/{body['id']}/{SESSION}-artwork.{extension}"
    assert str(_session_row(synced)["artwork_id"]) == body["id"]
    row = _asset(synced, body["id"])
    assert (row["kind"], row["status"], row["extension"]) == ("image", "ready", extension)
    served = _served(client, body["url"])
    assert served.status_code == 200
    assert served.content == picture
    assert served.headers["content-type"].startswith(content_type)


def test_real_picture_type_wins_over_the_claim(
    client: TestClient[Any], admin: Account, synced: Settings, files: Path
) -> None:
    picture = make_png(files / "art.jpg", width=1400, height=1400).read_bytes()
    response = _put(client, admin, "artwork", picture, "image/jpeg")
    assert response.status_code == 200, response.text
    assert response.json()["mime_type"] == "image/png"
    assert response.json()["url"].endswith(".png")
    assert _served(client, response.json()["url"]).headers["content-type"].startswith("image/png")


@pytest.mark.parametrize(("width", "height", "words"), [(1400, 1500, "not square"), (500, 500, "smaller than allowed")])
def test_artwork_outside_apple_rule_is_422(
    client: TestClient[Any], admin: Account, synced: Settings, files: Path, width: int, height: int, words: str
) -> None:
    before = _asset_count(synced)
    picture = make_png(files / "art.png", width=width, height=height).read_bytes()
    response = _put(client, admin, "artwork", picture, "image/png")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Invalid artwork"
    detail = response.json()["detail"]
    assert f"{width}×{height}" in detail
    assert words in detail
    assert "square" in detail
    assert "1400 to 3000 pixels" in detail
    assert _asset_count(synced) == before


def test_text_claiming_to_be_a_png_is_422(
    client: TestClient[Any], admin: Account, synced: Settings, files: Path
) -> None:
    response = _put(client, admin, "artwork", make_text(files / "art.png").read_bytes(), "image/png")
    assert response.status_code == 422
    assert "The file is text, not a JPEG or PNG picture" in response.json()["detail"]
    assert _session_row(synced)["artwork_id"] is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("large", "3200×3200 pixels, larger than allowed"),
        ("cmyk", "CMYK"),
        ("truncated", "damaged or truncated"),
        ("gif", "a GIF picture"),
        ("pdf", "a PDF document"),
        ("noise", "a format we do not recognise"),
        ("png-without-header", "header is missing"),
        ("jpeg-without-frame", "no frame header"),
    ],
)
def test_artwork_checks(files: Path, content: str, words: str) -> None:
    data = {
        "large": lambda: make_png(files / "art.png", width=3200, height=3200).read_bytes(),
        "cmyk": lambda: _cmyk_jpeg_header(1400),
        "truncated": lambda: make_jpeg(files / "art.jpg", width=1400, height=1400).read_bytes()[:20_000],
        "gif": lambda: b"GIF89a" + b"\x00" * 100,
        "pdf": lambda: b"%PDF-1.7\n" + b"\x00" * 100,
        "noise": lambda: bytes(range(256)),
        "png-without-header": lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
        "jpeg-without-frame": lambda: b"\xff\xd8\xff\xe0\x00\x04ab\xff\xd9",
    }[content]()
    path = files / "upload"
    path.write_bytes(data)
    with pytest.raises(InvalidArtwork, match=re.escape(words)):
        check_artwork(path)


def test_replacing_artwork_retires_the_previous_asset(
    client: TestClient[Any], admin: Account, synced: Settings, files: Path
) -> None:
    first = _put(client, admin, "artwork", make_png(files / "a.png", width=1400, height=1400).read_bytes(), "image/png")
    second = _put(
        client, admin, "artwork", make_jpeg(files / "b.jpg", width=1500, height=1500).read_bytes(), "image/jpeg"
    )
    assert (first.status_code, second.status_code) == (200, 200)
    old, new = first.json(), second.json()
    assert str(_session_row(synced)["artwork_id"]) == new["id"]
    assert _asset(synced, old["id"])["status"] == "retired"  # the row stays, for its download history
    assert _asset(synced, new["id"])["status"] == "ready"
    deadline = time.monotonic() + 5
    while _served(client, old["url"]).status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.05)  # the media cache follows the database through NOTIFY
    assert _served(client, old["url"]).status_code == 404
    assert _served(client, new["url"]).status_code == 200


def test_a_failure_after_storing_leaves_nothing_behind(
    client: TestClient[Any], admin: Account, synced: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, stored = _asset_count(synced), _stored_files(synced)
    before = _session_row(synced)["transcript_id"]

    async def broken(*_: Any) -> None:
        raise RuntimeError("the database went away mid-request")

    monkeypatch.setattr(SideFileService, "_replace", broken)
    response = _put(client, admin, "transcript", VTT.encode(), "text/vtt")
    assert response.status_code == 500
    assert _stored_files(synced) == stored  # the object written before the failure was removed
    assert _asset_count(synced) == rows  # and the transaction rolled back
    assert _session_row(synced)["transcript_id"] == before


def test_an_unavailable_store_is_503(
    client: TestClient[Any], admin: Account, synced: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(*_: Any) -> None:
        raise StorageUnavailable("minio is down")

    monkeypatch.setattr(client.app.state.store, "put_file", unavailable)
    response = _put(client, admin, "transcript", VTT.encode(), "text/vtt")
    assert response.status_code == 503
    assert "Retry-After" in response.headers


# --------------------------------------------------------------------------- size limits and types


@pytest.mark.parametrize(
    ("kind", "content_type", "limit"),
    [("artwork", "image/png", 10 * MiB), ("transcript", "text/vtt", 2 * MiB), ("chapters", "application/json", MiB)],
)
def test_over_the_size_limit_is_413_and_nothing_is_stored(
    client: TestClient[Any], admin: Account, settings: Settings, kind: str, content_type: str, limit: int
) -> None:
    rows, stored = _asset_count(settings), _stored_files(settings)
    response = _put(client, admin, kind, b"x" * (limit + 1), content_type)
    assert response.status_code == 413
    assert f"{limit // MiB} MiB" in response.json()["detail"]
    assert _asset_count(settings) == rows
    assert _stored_files(settings) == stored


def test_upload_stops_reading_as_soon_as_the_limit_is_passed(
    client: TestClient[Any], admin: Account, synced: Settings
) -> None:
    """Without a Content-Length, the body is counted as it arrives: the app stops reading past 1 MiB of
    chapters and answers 413 without waiting for the rest of a 64 MiB body."""
    stored = _stored_files(synced)
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * (64 * 1024), "more_body": pulled < 1024}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path = f"{SESSION_FILES}/chapters"
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [
            (b"host", b"testserver.local"),
            (b"authorization", admin.headers["Authorization"].encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 50000), "server": ("testserver.local", 80),
    }  # fmt: skip
    client.blocking_portal.call(client.app, scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] == 413
    assert pulled == 17  # 16 chunks make 1 MiB; the 17th passes the limit, and nothing more is read
    assert _stored_files(synced) == stored


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [
        ("artwork", "image/gif"),
        ("artwork", "application/octet-stream"),
        ("transcript", "application/json"),
        ("chapters", "text/vtt"),
        ("artwork", ""),
    ],
)
def test_wrong_content_type_is_415(client: TestClient[Any], admin: Account, kind: str, content_type: str) -> None:
    response = _put(client, admin, kind, b"whatever", content_type)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


def test_learner_and_anonymous_cannot_attach_or_detach(client: TestClient[Any], learner: Account) -> None:
    url = f"{SESSION_FILES}/transcript"
    body, vtt = VTT.encode(), {"Content-Type": "text/vtt"}
    assert client.put(url, content=body, headers=vtt).status_code == 401
    assert client.put(url, content=body, headers={**vtt, **learner.headers}).status_code == 403
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=learner.headers).status_code == 403


def test_unknown_kind_is_400_and_unknown_target_404(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    assert _put(client, admin, "poster", VTT.encode(), "text/vtt").status_code == 400
    missing = f"/api/v1/admin/webinars/{SERIES}/sessions/2031-01-nulle-part/files"
    response = _put(client, admin, "transcript", VTT.encode(), "text/vtt", path=missing)
    assert response.status_code == 404
    assert "2031-01-nulle-part" in response.json()["detail"]
    lesson = "/api/v1/admin/modules/dix-ans-de-recherche/lessons/nulle-part/files"
    assert _put(client, admin, "transcript", VTT.encode(), "text/vtt", path=lesson).status_code == 404
    assert client.delete(f"{missing}/transcript", headers=admin.headers).status_code == 404


# --------------------------------------------------------------------------- transcripts


@pytest.mark.parametrize(
    ("text", "content_type", "stored_type", "extension"),
    [
        (VTT, "text/vtt", "text/vtt", "vtt"),
        (VTT, "text/plain; charset=utf-8", "text/vtt", "vtt"),
        ("\ufeff" + VTT.replace("\n", "\r\n"), "text/vtt", "text/vtt", "vtt"),
        (SRT, "application/x-subrip", "application/x-subrip", "srt"),
        (SRT, "text/plain", "application/x-subrip", "srt"),
    ],
)
def test_valid_transcripts_are_attached(
    client: TestClient[Any],
    admin: Account,
    synced: Settings,
    text: str,
    content_type: str,
    stored_type: str,
    extension: str,
) -> None:
    shipped = _session_row(synced)["transcript_id"]
    response = _put(client, admin, "transcript", text.encode(), content_type)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["mime_type"], body["width"]) == (stored_type, None)
    assert body["url"].endswith(f"/{SESSION}-transcript.{extension}")
    assert _served(client, body["url"]).content == text.encode()
    assert _asset(synced, shipped)["status"] == "retired"  # the shipped transcript it replaces
    _eventually(client, "transcript", body["id"])


@pytest.mark.parametrize(
    ("text", "content_type", "words"),
    [
        ("1\n00:00:00.000 --> 00:00:04.000\nSans en-tête\n", "text/vtt", "starts with the line 'WEBVTT'"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:4.000\nSeconde à un chiffre\n", "text/vtt", "not a cue timing"),
        ("1\n00:00:00.000 --> 00:00:04.000\nPoint\n", "application/x-subrip", "comma before the milliseconds"),
    ],
)
def test_broken_transcript_is_422(
    client: TestClient[Any], admin: Account, synced: Settings, text: str, content_type: str, words: str
) -> None:
    before = _session_row(synced)["transcript_id"]
    response = _put(client, admin, "transcript", text.encode(), content_type)
    assert response.status_code == 422, response.text
    assert response.json()["title"] == "Invalid transcript"
    assert words in response.json()["detail"]
    assert _session_row(synced)["transcript_id"] == before


@pytest.mark.parametrize(
    ("text", "declared", "words"),
    [
        (SRT, "text/vtt", "looks like SubRip"),
        ("WEBVTT\n\n00:00:00,000 --> 00:00:04,000\nVirgule\n", "text/vtt", "Line 3"),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nÀ l'envers\n", "text/vtt", "ends before it starts"),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:06.000\nA\n\n00:00:01.000 --> 00:00:02.000\nB\n", "text/vtt", "in order"),
        ("WEBVTT\n\n00:00:00.000 --> 00:61:00.000\nMinutes\n", "text/vtt", "not a cue timing"),
        ("WEBVTT\n\nune ligne\nsans minutage\n", "text/vtt", "expected a cue timing"),
        ("WEBVTT\n\nNOTE rien d'autre\n", "text/vtt", "no cues"),
        ("WEBVTTX\n\n00:00.000 --> 00:01.000\nA\n", "text/vtt", "'WEBVTT'"),
        (VTT, "application/x-subrip", "send it as text/vtt"),
        ("Bonjour\n00:00:00,000 --> 00:00:04,000\nSans numéro\n", "text/plain", "starts with its number"),
        ("1\n00:00:00,000 --> 00:00:04,000\nA\n\n2\n00:00:00,000\n", "application/x-subrip", "Line 6"),
        ("1\n", "application/x-subrip", "has no timing"),
        ("\n\n", "application/x-subrip", "no cues"),
        ("WEBVTT\n\n00:00.000 --> 00:01.000\n\x00\n", "text/vtt", "NUL"),
    ],
)
def test_transcript_checks(text: str, declared: str, words: str) -> None:
    with pytest.raises(InvalidTranscript, match=re.escape(words)):
        check_transcript(text.encode(), declared)


@pytest.mark.parametrize(
    ("text", "declared"),
    [
        (f"WEBVTT\n\n{'9' * 400}:00:00.000 --> {'9' * 400}:00:01.000\nA\n", "text/vtt"),  # past a float
        (f"1\n{'9' * 5000}:00:00,000 --> {'9' * 5000}:00:01,000\nA\n", "application/x-subrip"),  # past int()
        ("WEBVTT\n\n\u0661\u0660:00:00.000 --> \u0661\u0660:00:01.000\nA\n", "text/vtt"),  # Arabic-Indic digits
        ("1\n\u0661:00:00,000 --> \u0661:00:01,000\nA\n", "application/x-subrip"),
    ],
    ids=["vtt-400-digit-hours", "srt-5000-digit-hours", "vtt-arabic-indic-hours", "srt-arabic-indic-hours"],
)
def test_transcript_timing_with_absurd_or_non_ascii_hours_is_refused(text: str, declared: str) -> None:
    with pytest.raises(InvalidTranscript, match="is not a cue timing"):
        check_transcript(text.encode(), declared)


def test_transcript_that_is_not_utf8_is_422(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    response = _put(client, admin, "transcript", VTT.encode("latin-1"), "text/vtt")
    assert response.status_code == 422
    assert "not UTF-8" in response.json()["detail"]
    assert _put(client, admin, "transcript", b"", "text/vtt").json()["detail"] == "The file is empty."


# --------------------------------------------------------------------------- chapters


def test_valid_chapters_are_attached_and_shown(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    content = json.dumps(CHAPTERS).encode()
    response = _put(client, admin, "chapters", content, "application/json+chapters")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mime_type"] == "application/json+chapters"
    assert body["url"].endswith(f"/{SESSION}-chapters.json")
    served = _served(client, body["url"])
    assert served.content == content
    assert served.headers["content-type"].startswith("application/json+chapters")
    detail = _eventually(client, "chapters", body["id"])
    assert detail["chapters"]["url"] == body["url"]


def _chapters(**changes: Any) -> dict[str, Any]:
    return {**CHAPTERS, **changes}


def test_invalid_chapters_are_422(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    before = _session_row(synced)["chapters_id"]
    for content, words in [
        (b"{not json", "not valid JSON"),
        (json.dumps(_chapters(chapters=[{"startTime": 0}, {"startTime": 10}, {"startTime": 5}])).encode(), "Chapter 3"),
    ]:
        response = _put(client, admin, "chapters", content, "application/json")
        assert response.status_code == 422, response.text
        assert response.json()["title"] == "Invalid chapters"
        assert words in response.json()["detail"]
    assert _session_row(synced)["chapters_id"] == before


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("{not json", "not valid JSON (line 1"),
        ('{"version": "1.2.0", "chapters": [{"startTime": NaN}]}', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ([], "must be a JSON object"),
        ({"chapters": [{"startTime": 0}]}, '"version"'),
        (_chapters(version=1.2), '"version"'),
        (_chapters(chapters=[]), "non-empty list"),
        (_chapters(chapters={"startTime": 0}), "non-empty list"),
        (_chapters(chapters=[{"startTime": 0}, {"startTime": 10}, {"startTime": 5}]), "Chapter 3"),
        (_chapters(chapters=[{"startTime": 0}, {"startTime": 0}]), "must be after the previous"),
        (_chapters(chapters=[{"startTime": -1}]), "0 or more"),
        (_chapters(chapters=[{"startTime": "0"}]), "must be a number"),
        (_chapters(chapters=[{"startTime": True}]), "must be a number"),
        (_chapters(chapters=[{"title": "Sans début"}]), '"startTime"'),
        (_chapters(chapters=[{"startTime": 4, "endTime": 2}]), '"endTime"'),
        (_chapters(chapters=[{"startTime": 0, "title": 3}]), '"title" must be a string'),
        (_chapters(chapters=[{"startTime": 0, "img": None}]), '"img" must be a string'),
        (_chapters(chapters=[{"startTime": 0, "toc": "non"}]), '"toc"'),
        (_chapters(chapters=["Ouverture"]), "must be a JSON object"),
        (_chapters(author=["x"]), '"author" must be a string'),
        (_chapters(chapters=[{"startTime": 0}, {"startTime": 10**400}]), "beyond the end of the media"),
    ],
)
def test_chapters_checks(document: Any, words: str) -> None:
    content = document.encode() if isinstance(document, str) else json.dumps(document).encode()
    with pytest.raises(InvalidChapters, match=re.escape(words)):
        check_chapters(content, 30.0)


def test_chapters_without_a_known_duration_are_not_bounded() -> None:
    late = _chapters(chapters=[{"startTime": 0}, {"startTime": 10**6, "endTime": 10**6 + 1.5, "toc": False}])
    assert check_chapters(json.dumps(late).encode(), None).mime_type == "application/json+chapters"
    assert check_chapters(("\ufeff" + json.dumps(CHAPTERS)).encode(), 30.0).extension == "json"


def test_chapters_must_start_within_the_replay(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    replay = _asset(synced, _session_row(synced)["replay_id"])
    duration = replay["duration_seconds"]
    inside = _chapters(chapters=[{"startTime": 0}, {"startTime": duration - 0.5}])
    outside = _chapters(chapters=[{"startTime": 0}, {"startTime": duration + 0.5}])
    assert _put(client, admin, "chapters", json.dumps(inside).encode(), "application/json").status_code == 200
    response = _put(client, admin, "chapters", json.dumps(outside).encode(), "application/json")
    assert response.status_code == 422
    assert f"({duration:g} s)" in response.json()["detail"]


# --------------------------------------------------------------------------- detaching, lessons


def test_delete_detaches_and_retires(client: TestClient[Any], admin: Account, synced: Settings) -> None:
    shipped = _session_row(synced)["transcript_id"]
    assert shipped is not None
    response = client.delete(f"{SESSION_FILES}/transcript", headers=admin.headers)
    assert response.status_code == 204
    assert _session_row(synced)["transcript_id"] is None
    assert _asset(synced, shipped)["status"] == "retired"
    _eventually(client, "transcript", None)
    # Nothing attached any more: still 204 (DELETE is idempotent).
    assert client.delete(f"{SESSION_FILES}/transcript", headers=admin.headers).status_code == 204


def test_lesson_side_files(client: TestClient[Any], admin: Account, synced: Settings, files: Path) -> None:
    module, lesson, duration = _lesson_with_media(synced)
    path = f"/api/v1/admin/modules/{module}/lessons/{lesson}/files"
    picture = make_jpeg(files / "art.jpg", width=1400, height=1400).read_bytes()
    assert _put(client, admin, "artwork", picture, "image/jpeg", path=path).status_code == 200
    assert _put(client, admin, "transcript", SRT.encode(), "application/x-subrip", path=path).status_code == 200
    late = _chapters(chapters=[{"startTime": 0}, {"startTime": duration + 1}])
    refused = _put(client, admin, "chapters", json.dumps(late).encode(), "application/json", path=path)
    assert refused.status_code == 422
    chapters = _put(client, admin, "chapters", json.dumps(CHAPTERS).encode(), "application/json", path=path)
    assert chapters.status_code == 200
    row = sql(synced.require_database_url(), "SELECT * FROM lesson WHERE slug = $1", lesson)[0]
    assert all(row[key] is not None for key in ("artwork_id", "transcript_id", "chapters_id"))
    assert str(row["chapters_id"]) == chapters.json()["id"]
    assert client.delete(f"{path}/artwork", headers=admin.headers).status_code == 204
    after = sql(synced.require_database_url(), "SELECT artwork_id FROM lesson WHERE slug = $1", lesson)[0]
    assert after["artwork_id"] is None


@pytest.fixture(autouse=True)
def _no_leftover_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # This test's own temporary folder: other workers' tests write side files into the shared one meanwhile.
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield
    assert not list(folder.glob("side-file-*"))
