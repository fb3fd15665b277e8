"""What the schemathesis tests (test_fuzz.py, test_fuzz_stateful.py) share: the OpenAPI document and the
checks' configuration, the world the fuzzer points at (a live uvicorn server over the synced shipped content,
learners and an admin signed in, things to aim at) and the hooks that aim generated cases at it.

Random identifiers mostly meet 404s, so three cases in four are pointed at something that exists (a
shipped module, a replay and its real ETag, an upload in progress, a learner's private feed) and, on the
routes that read the raw request, given realistic headers and bodies (byte ranges and conditionals on
media and feeds, tus headers with valid metadata and checksums, side files of each kind, well-formed
progress events).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation
from schemathesis.transport.serialization import Binary

from learning.admin.commands import create_admin
from learning.app import create_app
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES, sync
from tests.helpers.database import make_settings, truncate_all
from tests.helpers.live import live_server

EXAMPLES = int(os.environ.get("LEARNING_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("LEARNING_FUZZ_SEED", "20181224"))  # the platform's launch day
OFFSET_STREAM = "application/offset+octet-stream"

# For the test modules' ``pytestmark``: schemathesis' negative-mode generators draw from the `random` module;
# Hypothesis deprecates that, and with a fixed seed the draws stay reproducible.
RANDOM_MODULE_WARNING = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)


def _document() -> dict[str, Any]:
    """The app's OpenAPI document, built without a database (the app connects only when it starts)."""
    unused = make_settings("postgresql+asyncpg://fuzz@127.0.0.1/unused", Path(tempfile.gettempdir()) / "unused")
    document: dict[str, Any] = json.loads(json.dumps(create_app(unused).openapi_schema.to_schema()))
    return document


DOCUMENT = _document()

# Answers the checks accept (schemathesis' defaults, plus 413 for a body over the server's size limit,
# refused before it is read). Each operation below adds what its own rules answer, and says why.
VALID_ANSWERS = ["2xx", "3xx", "401", "403", "404", "409", "429"]
INVALID_ANSWERS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
MISSING_HEADER_ANSWERS = ["400", "401", "403", "406", "415", "422"]


def _expect(*, valid: tuple[int, ...] = (), invalid: tuple[int, ...] = (), missing: tuple[int, ...] = ()) -> Any:
    checks: dict[str, Any] = {}
    for check, base, extra in (
        ("positive_data_acceptance", VALID_ANSWERS, valid),
        ("negative_data_rejection", INVALID_ANSWERS, invalid),
        ("missing_required_header", MISSING_HEADER_ANSWERS, missing),
    ):
        if extra:
            checks[check] = {"expected-statuses": [*base, *map(str, extra)]}
    return checks


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "checks": {
            "negative_data_rejection": {"expected-statuses": INVALID_ANSWERS},
            # Litestar 2 answers OPTIONS with an Allow header listing only some of a path's methods
            # (litestar-org/litestar#4169; test_fuzz_regressions.test_options_lists_every_method_of_the_path):
            # off until that is fixed.
            "allow_header_conformance": {"enabled": False},
        },
        "operations": [
            # A new password of the documented length (from the settings) must still not be a common password
            # nor the e-mail address, which no schema can say: 422.
            {"include-operation-id": ["Register", "ChangePassword"], "checks": _expect(valid=(422,))},
            # A valid batch may name lessons that do not exist, leave out a played event's from and to (or a
            # position's position), have a segment whose from is not before its to, or go past the lesson's
            # duration, rules between fields and with the data: 422.
            {"include-operation-id": "RecordProgressEvents", "checks": _expect(valid=(422,))},
            # An xAPI export's cursor is opaque: only one a page gave starts a page, which no schema can say: 400.
            {
                "include-operation-id": ["GetMyXapiStatements", "GetLearnerXapiStatements"],
                "checks": _expect(valid=(400,)),
            },
            # publish_at needs a year between 1900 and 2200, which a date-time schema cannot say: 422. (It goes
            # with state "scheduled" only: each state has its own shape in the document.)
            {"include-operation-id-regex": "^Set.*Publication$", "checks": _expect(valid=(422,))},
            # scheduled_at needs a UTC offset and a year between 1900 and 2200, which a date-time schema cannot
            # say: 422.
            {"include-operation-id": ["CreateWebinarSession", "UpdateWebinarSession"], "checks": _expect(valid=(422,))},
            # from/to span at most 366 days and from comes first, a rule between parameters: 400.
            {"include-operation-id": ["ListDownloadTotals", "GetAssetDownloads"], "checks": _expect(valid=(400,))},
            # The search honours If-Match / If-Unmodified-Since like every catalog answer (412).
            {"include-operation-id-regex": "^(Head)?Search$", "checks": _expect(valid=(412,))},
            # Upload-Metadata must name a file and an existing target, the length stay under the server's
            # limit, the bytes match Upload-Checksum: 400, 413, 422, 460. A missing or other Tus-Resumable is
            # a 412, as tus prescribes.
            {
                "include-operation-id": ["CreateUpload", "AppendToUpload"],
                "checks": _expect(valid=(400, 413, 415, 422, 460), invalid=(412, 460), missing=(412,)),
            },
            {
                "include-operation-id": ["UploadOffset", "TerminateUpload"],
                "checks": _expect(invalid=(412,), missing=(412,)),
            },
            # A side file is judged from its bytes (a picture's size, a transcript's cues): 413, 415, 422.
            {"include-operation-id-regex": "^Attach.*File$", "checks": _expect(valid=(413, 415, 422))},
            # Catalog answers and feeds honour If-Match / If-Unmodified-Since (412).
            {
                "include-operation-id-regex": "^(Head)?(List|Get)(Modules|Module|Lesson|WebinarSeries|WebinarSession)$"
                "|^(Get|Head)(WebinarSeries|Module|PrivateModule)Feed$",
                "checks": _expect(valid=(412,)),
            },
            # Media files honour If-Match / If-Unmodified-Since (412) and Range (416).
            {"include-operation-id-regex": "^(Get|Head)(Private)?Media$", "checks": _expect(valid=(412, 416))},
        ],
    }
)

# A copy: schemathesis writes the links it infers into the document it is given.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT), config=CONFIG)


@schemathesis.serializer(OFFSET_STREAM, "application/x-subrip", "application/json+chapters")
def _raw_bytes(_: Any, value: Any) -> bytes:
    """Raw bodies (tus chunks, side files) go on the wire as they are."""
    if isinstance(value, Binary):
        return value.data
    return value if isinstance(value, bytes) else str(value).encode()


# --- the world the fuzzer points at ----------------------------------------------------------------------
@dataclass
class World:
    """What exists on the server under test, for the hooks below to aim at."""

    base_url: str
    http: requests.Session
    tokens: dict[str, str] = field(default_factory=dict)  # role → bearer token
    # "METHOD /template" or "/template" → path parameters of things that exist
    path_values: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    validators: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # path → (ETag, Last-Modified)
    sizes: dict[str, int] = field(default_factory=dict)  # media path → bytes
    module_slugs: list[str] = field(default_factory=list)
    lesson_ids: list[str] = field(default_factory=list)
    enrolled_lesson_ids: list[str] = field(default_factory=list)  # the learner follows their module
    upload_targets: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def json(self, method: str, path: str, role: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        response = self.http.request(method, self.url(path), headers=headers, timeout=30, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content else None


WORLD: World | None = None  # set while the module's fixture is up; the hooks read it
# Raw bodies the hooks chose, by case id. They are sent in place of the case's body (as call arguments)
# rather than put in it: schemathesis counts any edited binary body as schema-violating.
RAW_BODIES: dict[str, tuple[str, bytes]] = {}


def _media_path(url: str) -> str:
    return urlsplit(url).path


@dataclass
class _Catalogue:
    """The shipped catalogue as the public API shows it."""

    lessons: list[dict[str, str]] = field(default_factory=list)  # {slug, lesson_slug}
    lesson_ids: dict[str, list[str]] = field(default_factory=dict)  # module → its lessons' ids
    sessions: list[dict[str, str]] = field(default_factory=list)  # {series_slug, session_slug}
    module_media: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # module → its MediaRefs
    media: list[dict[str, Any]] = field(default_factory=list)  # every MediaRef


def _read_catalogue(world: World) -> _Catalogue:
    found = _Catalogue()
    for module in world.json("GET", "/api/v1/modules?limit=100")["items"]:
        slug = module["slug"]
        world.module_slugs.append(slug)
        for lesson in world.json("GET", f"/api/v1/modules/{slug}")["lessons"]:
            found.lessons.append({"slug": slug, "lesson_slug": lesson["slug"]})
            found.lesson_ids.setdefault(slug, []).append(lesson["id"])
            if lesson["media"]:
                found.module_media.setdefault(slug, []).append(lesson["media"])
    world.lesson_ids = [i for ids in found.lesson_ids.values() for i in ids]
    for item in world.json("GET", f"/api/v1/webinars/{SERIES}?limit=100")["sessions"]["items"]:
        found.sessions.append({"series_slug": SERIES, "session_slug": item["slug"]})
        detail = world.json("GET", f"/api/v1/webinars/{SERIES}/sessions/{item['slug']}")
        found.media.extend(detail[key] for key in ("replay", "transcript", "chapters", "artwork") if detail[key])
    found.media.extend(ref for refs in found.module_media.values() for ref in refs)
    return found


def _media_values(world: World, refs: list[dict[str, Any]], prefix: str = "") -> list[dict[str, str]]:
    """``{asset_id, filename}`` of each media file (served under ``prefix``), their sizes remembered."""
    values = []
    for ref in refs:
        _, _, asset_id, filename = _media_path(ref["url"]).split("/")
        values.append({"asset_id": asset_id, "filename": filename})
        world.sizes[f"{prefix}/media/{asset_id}/{filename}"] = ref["size_bytes"]
    return values


def _build_world(base_url: str, admin_email: str) -> World:
    world = World(base_url=base_url, http=requests.Session())
    accounts = {
        "learner": "apprenant@example.org",
        "subscriber": "abonne@example.org",
        "victim": "supprime@example.org",
        # Signing out revokes the token it is sent with: these two accounts are the ones that sign out.
        "SignOut": "partant@example.org",
        "SignOutEverywhere": "partant-partout@example.org",
    }
    for email in accounts.values():
        world.json("POST", "/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    for role, email in {**accounts, "admin": admin_email}.items():
        world.tokens[role] = world.json("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})[
            "access_token"
        ]
    ids = {role: world.json("GET", "/api/v1/me", role)["id"] for role in world.tokens}
    catalogue = _read_catalogue(world)

    # A learner's private feeds (another learner than the one the fuzzer signs in as: it may revoke its own).
    enrolled = next(iter(catalogue.module_media))
    for role in ("subscriber", "learner"):
        world.json("POST", "/api/v1/me/enrollments", role, json={"module": enrolled})
    world.enrolled_lesson_ids = catalogue.lesson_ids[enrolled]
    token = world.json("POST", "/api/v1/me/feed-token", "subscriber")["token"]
    private_media = [
        {"token": token, **pair}
        for pair in _media_values(world, catalogue.module_media[enrolled], prefix=f"/feeds/private/{token}")
    ]

    # Things the admin operations may change or delete freely, so the shipped catalogue stays as it is.
    module, lesson, session = "module-de-brouillon", "lecon-de-brouillon", "seance-de-brouillon"
    world.json("POST", "/api/v1/admin/modules", "admin", json={"slug": module, "title": "Brouillon"})
    world.json(
        "POST", f"/api/v1/admin/modules/{module}/lessons", "admin",
        json={"slug": lesson, "title": "Leçon de brouillon", "kind": "text", "position": 1},
    )  # fmt: skip
    world.json(
        "POST", f"/api/v1/admin/webinars/{SERIES}/sessions", "admin",
        json={"slug": session, "title": "Séance de brouillon", "scheduled_at": "2019-12-12T16:00:00Z"},
    )  # fmt: skip
    world.upload_targets = [f"session:{SERIES}/{session}", f"lesson:{module}/{lesson}"]
    upload_id, doomed_upload_id = (_start_upload(world, target) for target in world.upload_targets)
    complete_upload_id = _start_upload(world, world.upload_targets[0], sent=4096)  # processed (and failing)

    # An app password of the learner (issue 25), to list and to revoke.
    app_password_id = world.json("POST", "/api/v1/me/app-passwords", "learner", json={"name": "Essai"})["id"]

    media = _media_values(world, catalogue.media)
    kinds = ("artwork", "transcript", "chapters")
    world.path_values = {
        "/api/v1/modules/{slug}": [{"slug": slug} for slug in world.module_slugs],
        "/api/v1/modules/{slug}/lessons/{lesson_slug}": catalogue.lessons,
        "/api/v1/webinars/{series_slug}": [{"series_slug": SERIES}],
        "/api/v1/webinars/{series_slug}/sessions/{session_slug}": catalogue.sessions,
        # Not the module the learner's progress events are about.
        "/api/v1/me/enrollments/{module_slug}": [{"module_slug": s} for s in world.module_slugs if s != enrolled],
        "/api/v1/me/progress/lessons/{lesson_id}": [{"lesson_id": i} for i in world.lesson_ids],
        "/api/v1/me/progress/modules/{module_slug}": [{"module_slug": slug} for slug in world.module_slugs],
        "/api/v1/modules/{module_slug}/quiz": [{"module_slug": slug} for slug in world.module_slugs],
        "/api/v1/me/quizzes/{module_slug}/attempts": [{"module_slug": slug} for slug in world.module_slugs],
        "/api/v1/admin/users/{user_id}": [{"user_id": ids[role]} for role in ("learner", "subscriber", "admin")],
        "DELETE /api/v1/admin/users/{user_id}": [{"user_id": ids["victim"]}],
        "/api/v1/admin/users/{user_id}/xapi/statements": [{"user_id": ids[r]} for r in ("learner", "subscriber")],
        "/api/v1/admin/modules/{slug}": [{"slug": module}],
        "/api/v1/admin/modules/{slug}/lessons": [{"slug": module}],
        "/api/v1/admin/modules/{slug}/publication": [{"slug": module}],
        "/api/v1/admin/modules/{slug}/lessons/{lesson_slug}": [{"slug": module, "lesson_slug": lesson}],
        "/api/v1/admin/modules/{slug}/lessons/{lesson_slug}/publication": [{"slug": module, "lesson_slug": lesson}],
        "/api/v1/admin/webinars/{series_slug}/sessions": [{"series_slug": SERIES}],
        "/api/v1/admin/webinars/{series_slug}/sessions/{session_slug}": [
            {"series_slug": SERIES, "session_slug": session}
        ],
        "/api/v1/admin/webinars/{series_slug}/sessions/{session_slug}/publication": [
            {"series_slug": SERIES, "session_slug": session}
        ],
        "/api/v1/admin/modules/{module_slug}/lessons/{lesson_slug}/files/{kind}": [
            {"module_slug": module, "lesson_slug": lesson, "kind": kind} for kind in kinds
        ],
        "/api/v1/admin/webinars/{series_slug}/sessions/{session_slug}/files/{kind}": [
            {"series_slug": SERIES, "session_slug": session, "kind": kind} for kind in kinds
        ],
        "/api/v1/admin/downloads/assets/{asset_id}": [{"asset_id": pair["asset_id"]} for pair in media],
        "/api/v1/admin/uploads/{upload_id}": [{"upload_id": i} for i in (upload_id, complete_upload_id)],
        "DELETE /api/v1/admin/uploads/{upload_id}": [{"upload_id": i} for i in (doomed_upload_id, complete_upload_id)],
        "/api/v1/admin/uploads/{upload_id}/retry": [{"upload_id": i} for i in (upload_id, complete_upload_id)],
        "/media/{asset_id}/{filename}": media,
        "/feeds/webinars/{filename}": [{"filename": f"{SERIES}.{ext}"} for ext in ("xml", "atom", "ics")],
        "/api/v1/me/registrations/{series_slug}/{session_slug}": [{"series_slug": SERIES, "session_slug": session}],
        "/api/v1/admin/webinars/{series_slug}/sessions/{session_slug}/registrations": [
            {"series_slug": SERIES, "session_slug": session}
        ],
        # A made-up link: refused (404) like a forged one.
        "/api/v1/registrations/unregister/{token}": [{"token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}],
        # Nobody completed a module in this world: a well-formed attestation number nobody was given (404).
        "/api/v1/me/attestations/{filename}": [{"filename": "0000-0000-0000-0000.pdf"}],
        "/api/v1/admin/attestations/{number}/revocation": [{"number": "0000-0000-0000-0000"}],
        "/attestations/{number}/credential.jwt": [{"number": "0000-0000-0000-0000"}],
        "/feeds/modules/{filename}": [
            {"filename": f"{s}.{ext}"} for s in world.module_slugs for ext in ("xml", "atom")
        ],
        "/feeds/private/{token}/modules/{filename}": [
            {"token": token, "filename": f"{enrolled}.{ext}"} for ext in ("xml", "atom")
        ],
        "/feeds/private/{token}/media/{asset_id}/{filename}": private_media,
        "/api/v1/me/app-passwords/{password_id}": [{"password_id": app_password_id}],
    }
    _remember_validators(world)
    return world


def _start_upload(world: World, target: str, sent: int = 1024) -> str:
    """An upload of 4096 bytes, ``sent`` of them already there, for the tus operations to resume or end."""
    metadata = f"filename {_b64('replay.mp4')},target {_b64(target)}"
    headers = {
        "Authorization": f"Bearer {world.tokens['admin']}", "Tus-Resumable": "1.0.0", "Upload-Length": "4096",
        "Upload-Metadata": metadata, "Content-Type": OFFSET_STREAM,
    }  # fmt: skip
    response = world.http.post(world.url("/api/v1/admin/uploads"), headers=headers, data=b"\0" * sent, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[1]


def _remember_validators(world: World) -> None:
    """The ETag and Last-Modified of every GET the hooks aim at, for conditional requests that match."""
    for template, values in world.path_values.items():
        if template.startswith(("/api/v1/admin/", "/api/v1/me/", "DELETE ")):
            continue
        for params in values:
            path = template.format(**params)
            response = world.http.get(world.url(path), timeout=30)
            if response.status_code == 200 and "ETag" in response.headers:
                world.validators[path] = (response.headers["ETag"], response.headers.get("Last-Modified"))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- hooks: aim the generated cases at what exists -----------------------------------------------------------
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
_JUNK = st.text(_PRINTABLE, max_size=40).map(str.strip)  # a header value cannot start or end with spaces
_HTTP_DATES = st.sampled_from(
    ["Thu, 01 Jan 1970 00:00:00 GMT", "Tue, 24 Dec 2018 09:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "hier"]
)


def _etags(etag: str | None) -> st.SearchStrategy[str]:
    known = [etag, f"W/{etag}", f'"autre", {etag}'] if etag else []
    return st.sampled_from([*known, "*", '"perime"']) | _JUNK


def _dates(last_modified: str | None) -> st.SearchStrategy[str]:
    return (st.just(last_modified) if last_modified else st.nothing()) | _HTTP_DATES | _JUNK


def _ranges(size: int) -> st.SearchStrategy[str]:
    offset = st.integers(0, size + 16)
    return st.one_of(
        st.just("bytes=0-1"),  # what podcast apps send first
        st.builds("bytes={}-{}".format, offset, offset),
        st.builds("bytes={}-".format, offset),
        st.builds("bytes=-{}".format, offset),
        st.lists(st.tuples(offset, offset), min_size=2, max_size=6).map(
            lambda pairs: "bytes=" + ",".join(f"{a}-{b}" for a, b in pairs)
        ),
        st.integers(10**18, 10**40).map("bytes={}-".format),
        _JUNK,
    )


@st.composite
def _conditional_headers(draw: st.DrawFn, case: Any, world: World) -> None:
    """One of: a byte range, a conditional GET, a range under a precondition, or any mix of them."""
    path = case.formatted_path
    etag, last_modified = world.validators.get(path, (None, None))
    size = world.sizes.get(path)
    choices = {
        "Range": _ranges(size) if size is not None else st.nothing(),
        "If-None-Match": _etags(etag), "If-Modified-Since": _dates(last_modified),
        "If-Range": _etags(etag) | _dates(last_modified),
        "If-Match": _etags(etag), "If-Unmodified-Since": _dates(last_modified),
        "Accept-Encoding": st.sampled_from(["gzip", "identity", "gzip;q=0, br", "*"]) | _JUNK,
    }  # fmt: skip
    scenario = draw(
        st.sampled_from(
            [("Range",), ("If-None-Match",), ("If-Modified-Since",), ("Range", "If-Range"), ("Range", "If-Match"),
             ("If-Unmodified-Since",), ("Accept-Encoding",), tuple(choices)]
        )
    )  # fmt: skip
    for name in scenario:
        value = draw(st.none() | choices[name]) if len(scenario) == len(choices) else draw(choices[name])
        if value is not None:
            case.headers[name] = value


_VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nBonjour et bienvenue.\n"
_SRT = b"1\n00:00:00,000 --> 00:00:02,000\nBonjour et bienvenue.\n"
_CHAPTERS = b'{"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Ouverture"}]}'
_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
_SIDE_FILES = {
    "artwork": [("image/png", _PNG), ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 32)],
    "transcript": [("text/vtt", _VTT), ("application/x-subrip", _SRT), ("text/plain", _VTT)],
    "chapters": [("application/json+chapters", _CHAPTERS), ("application/json", b"{}")],
}


@st.composite
def _side_file(draw: st.DrawFn, case: Any) -> None:
    """A file of the kind the path names (or of another kind), whole or as random bytes."""
    samples = _SIDE_FILES.get(case.path_parameters.get("kind"), [])
    every = [sample for kind in _SIDE_FILES.values() for sample in kind]
    media_type, body = draw(st.sampled_from(samples or every) | st.sampled_from(every))
    RAW_BODIES[case.id] = (media_type, draw(st.just(body) | st.binary(max_size=64)))


def _checksum(algorithm: str, body: bytes) -> str:
    return f"{algorithm} " + base64.b64encode(hashlib.new(algorithm, body).digest()).decode()


@st.composite
def _tus_request(draw: st.DrawFn, case: Any, world: World, *, create: bool) -> None:
    """A tus creation or append that should work, or that breaks one rule: the checksum, the metadata, the
    size, the media type of the bytes."""
    body = draw(st.binary(max_size=2048))
    flaw = draw(st.sampled_from([None, None, None, "checksum", "metadata", "length", "media type"]))
    case.headers["Tus-Resumable"] = "1.0.0"  # schemathesis itself sends other versions, and none
    if create:
        length = max(1, len(body)) + draw(st.integers(0, 2048))
        metadata = {"filename": draw(st.sampled_from(["replay.mp4", "séance du 24 janvier.webm", "son.m4a"])),
                    "target": draw(st.sampled_from(world.upload_targets))}  # fmt: skip
        if draw(st.booleans()):
            metadata["publish"] = "true"
        encoded = ",".join(f"{key} {_b64(value)}" for key, value in metadata.items())
        case.headers["Upload-Length"] = str(draw(st.integers(2**32, 2**40)) if flaw == "length" else length)
        case.headers["Upload-Metadata"] = draw(_JUNK) if flaw == "metadata" else encoded
    else:
        case.headers["Upload-Offset"] = str(draw(st.sampled_from([1024, 0, 4096]) | st.integers(0, 2**40)))
    if flaw == "checksum":
        case.headers["Upload-Checksum"] = draw(st.sampled_from([_checksum("sha256", b"autre")]) | _JUNK)
    elif draw(st.booleans()):
        case.headers["Upload-Checksum"] = _checksum(draw(st.sampled_from(["sha1", "md5", "sha256"])), body)
    else:
        case.headers.pop("Upload-Checksum", None)
    if body or not create:
        media_type = draw(st.sampled_from(["application/octet-stream", "text/plain"])) if flaw == "media type" else None
        RAW_BODIES[case.id] = (media_type or OFFSET_STREAM, body)


@st.composite
def _progress_events(draw: st.DrawFn, case: Any, world: World) -> None:
    """A batch of well-formed events, mostly for lessons of the module the learner follows."""
    lesson = st.sampled_from(world.enrolled_lesson_ids) | st.sampled_from(world.lesson_ids)
    seconds = st.floats(0, 600, allow_nan=False)
    event = st.fixed_dictionaries(
        {
            "id": st.uuids().map(str),
            "lesson_id": lesson,
            "client_time": st.integers(1_546_300_800, 1_893_456_000).map(  # 2019 to 2030
                lambda timestamp: datetime.fromtimestamp(timestamp, UTC).isoformat()
            ),
        }
    ).flatmap(
        lambda base: st.one_of(
            st.tuples(seconds, seconds).map(
                lambda span: {**base, "type": "played", "from": min(span), "to": max(span)}
            ),
            seconds.map(lambda position: {**base, "type": "position", "position": position}),
            st.just({**base, "type": "completed"}),
        )
    )
    case.body = {"events": draw(st.lists(event, min_size=1, max_size=5))}


@st.composite
def _aimed(draw: st.DrawFn, case: Any) -> Any:
    """Three cases in four aimed at what exists, the others as schemathesis made them. A part schemathesis
    made invalid on purpose stays as it is (the checks expect that case to be refused)."""
    world = WORLD
    if world is None or not draw(st.sampled_from([True, True, True, False])):
        return case
    label = f"{case.method.upper()} {case.path}"
    values = world.path_values.get(label) or world.path_values.get(case.path)
    if values and not _negative_at(case, ParameterLocation.PATH):
        case.path_parameters = {**case.path_parameters, **draw(st.sampled_from(values))}
    if _negative_at(case, ParameterLocation.HEADER) or _negative_at(case, ParameterLocation.BODY):
        return case
    operation_id = case.operation.definition.raw.get("operationId", "")
    if case.method.upper() in {"GET", "HEAD"} and case.path.startswith(("/media/", "/feeds/", "/api/v1/modules",
                                                                          "/api/v1/webinars")):  # fmt: skip
        draw(_conditional_headers(case, world))
    elif operation_id in {"CreateUpload", "AppendToUpload"}:
        draw(_tus_request(case, world, create=operation_id == "CreateUpload"))
    elif operation_id in {"UploadOffset", "TerminateUpload"}:
        case.headers["Tus-Resumable"] = "1.0.0"
    elif operation_id.startswith("Attach"):
        draw(_side_file(case))
    elif operation_id == "RecordProgressEvents":
        draw(_progress_events(case, world))
    elif operation_id == "Enroll":
        case.body = {"module": draw(st.sampled_from(world.module_slugs))}
    return case


def _negative_at(case: Any, location: ParameterLocation) -> bool:
    return case.meta is not None and bool(case.meta.is_negative_at(location))


@schema.hook("flatmap_case")
def _aim_at_what_exists(_: Any, case: Any) -> st.SearchStrategy[Any]:
    return _aimed(case)


@schema.auth(refresh_interval=None, retry_on=[])
class _RoleToken:
    """Admin operations get the admin's token, the others the learner's. Tokens exist only once the fixture
    has run (schemathesis builds explicit examples at collection): the role stands in until the test swaps
    in the token."""

    def get(self, case: Any, _: Any) -> str:
        operation_id = case.operation.definition.raw.get("operationId", "")
        if operation_id in {"SignOut", "SignOutEverywhere"}:
            return str(operation_id)  # their own account: the learner's token must stay valid
        return "admin" if case.path.startswith("/api/v1/admin/") else "learner"

    def set(self, case: Any, role: str, _: Any) -> None:
        case.headers["Authorization"] = f"Bearer {role}"


@contextmanager
def running_world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A fresh database with the shipped content, the app behind uvicorn, and the world the hooks aim at."""
    global WORLD
    truncate_all(database_url)
    # The fuzzer is one address sending thousands of sign-ups, logins and password changes: under the shipped
    # limits it is answered 429 again and again, then paced (lib/fairness.py), and every later operation gets
    # the pacing's 429 instead of its own answers. Its limits are lifted; the limits have their own tests.
    lifted = {"register_ip_limit": 100_000, "login_ip_limit": 100_000, "login_account_limit": 100_000,
              "password_check_limit": 10_000}  # fmt: skip
    app_settings = make_settings(database_url, tmp_path_factory.mktemp("fuzz") / "var", **lifted)
    sync(app_settings)
    admin_email = "admin@example.org"
    asyncio.run(create_admin(app_settings, email=admin_email, password=PASSWORD))
    with live_server(create_app(app_settings)) as base_url:
        WORLD = _build_world(base_url, admin_email)
        try:
            yield WORLD
        finally:
            WORLD.http.close()
            WORLD = None
            RAW_BODIES.clear()


def call_kwargs(world: World, case: Any) -> dict[str, Any]:
    """How to send a case to the world's server: the role's real token in place of the role, and the raw body
    a hook chose."""
    role = case.headers.get("Authorization", "").removeprefix("Bearer ")
    if role in world.tokens:
        case.headers["Authorization"] = f"Bearer {world.tokens[role]}"
    raw: dict[str, Any] = {}
    if case.id in RAW_BODIES:
        media_type, raw_body = RAW_BODIES.pop(case.id)
        raw = {"data": raw_body, "headers": {"Content-Type": media_type}}
    return {"base_url": world.base_url, "session": world.http, "timeout": 30, **raw}
