"""The one MIME table: the types podcast apps expect, and every user of a type takes it from the table."""

from __future__ import annotations

import pytest

from learning.catalog.content.loader import MEDIA_EXTENSIONS
from learning.db import models as m
from learning.media import formats
from learning.uploads.sidefile_services import RULES, SideFileKind


@pytest.mark.parametrize(
    ("extension", "mime_type", "kind"),
    [
        ("m4a", "audio/x-m4a", m.MediaKind.AUDIO),  # Apple's type for AAC in MP4, which every podcast app takes
        ("mp3", "audio/mpeg", m.MediaKind.AUDIO),
        ("mp4", "video/mp4", m.MediaKind.VIDEO),
        ("m4v", "video/x-m4v", m.MediaKind.VIDEO),
        ("mov", "video/quicktime", m.MediaKind.VIDEO),
        ("webm", "video/webm", m.MediaKind.VIDEO),
        ("jpg", "image/jpeg", m.MediaKind.IMAGE),
        ("jpeg", "image/jpeg", m.MediaKind.IMAGE),
        ("png", "image/png", m.MediaKind.IMAGE),
        ("vtt", "text/vtt", m.MediaKind.TRANSCRIPT),
        ("srt", "application/x-subrip", m.MediaKind.TRANSCRIPT),
        ("json", "application/json+chapters", m.MediaKind.CHAPTERS),  # Podcasting 2.0 chapters
    ],
)
def test_format_table_gives_podcast_safe_types(extension: str, mime_type: str, kind: m.MediaKind) -> None:
    found = formats.BY_EXTENSION[extension]

    assert (found.mime_type, found.kind) == (mime_type, kind)
    assert formats.kind_for(mime_type) is kind


def test_kind_for_an_unlisted_type_follows_its_major_type() -> None:
    assert formats.kind_for("video/x-msvideo") is m.MediaKind.VIDEO
    assert formats.kind_for("audio/ogg") is m.MediaKind.AUDIO
    with pytest.raises(KeyError):
        formats.kind_for("application/zip")


def test_content_files_take_their_types_from_the_table() -> None:
    assert MEDIA_EXTENSIONS
    for extension, mime_type in MEDIA_EXTENSIONS.items():
        assert formats.BY_EXTENSION[extension].mime_type == mime_type, extension


def test_side_file_rules_accept_the_types_the_table_stores() -> None:
    accepted = {kind: set(rule.content_types) for kind, rule in RULES.items()}

    assert {formats.JPEG.mime_type, formats.PNG.mime_type} == accepted[SideFileKind.ARTWORK]
    assert {formats.VTT.mime_type, formats.SRT.mime_type} < accepted[SideFileKind.TRANSCRIPT]
    assert formats.CHAPTERS.mime_type in accepted[SideFileKind.CHAPTERS]
    for kind, rule in RULES.items():
        assert all(formats.kind_for(t) is rule.media_kind for t in rule.content_types if t in _TABLE_TYPES), kind


_TABLE_TYPES = {f.mime_type for f in formats.FORMATS}
