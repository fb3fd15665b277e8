"""The file formats we store and serve: each one's extension, MIME type and kind of media asset.

The one MIME table: the content loader, the replay processing, the side-file checks, the jobs and the pages
take their types from here. The types are the ones podcast apps expect in an enclosure (``audio/x-m4a``
for an AAC ``.m4a``, as Apple writes it, not ``audio/mp4``). No PyAV here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from learning.db import models as m


@dataclass(frozen=True, slots=True)
class FileFormat:
    extension: str  # without its dot: "m4a"
    mime_type: str
    kind: m.MediaKind


MP4: Final = FileFormat("mp4", "video/mp4", m.MediaKind.VIDEO)
M4V: Final = FileFormat("m4v", "video/x-m4v", m.MediaKind.VIDEO)
MOV: Final = FileFormat("mov", "video/quicktime", m.MediaKind.VIDEO)
WEBM: Final = FileFormat("webm", "video/webm", m.MediaKind.VIDEO)
M4A: Final = FileFormat("m4a", "audio/x-m4a", m.MediaKind.AUDIO)
MP3: Final = FileFormat("mp3", "audio/mpeg", m.MediaKind.AUDIO)
JPEG: Final = FileFormat("jpg", "image/jpeg", m.MediaKind.IMAGE)
PNG: Final = FileFormat("png", "image/png", m.MediaKind.IMAGE)
VTT: Final = FileFormat("vtt", "text/vtt", m.MediaKind.TRANSCRIPT)
SRT: Final = FileFormat("srt", "application/x-subrip", m.MediaKind.TRANSCRIPT)
CHAPTERS: Final = FileFormat("json", "application/json+chapters", m.MediaKind.CHAPTERS)  # Podcasting 2.0

FORMATS: Final = (MP4, M4V, MOV, WEBM, M4A, MP3, JPEG, PNG, VTT, SRT, CHAPTERS)
BY_EXTENSION: Final[dict[str, FileFormat]] = {f.extension: f for f in FORMATS} | {"jpeg": JPEG}

# Types a client may declare for a side file that we store as one of ours once its bytes are checked.
PLAIN_TEXT: Final = "text/plain"  # a transcript, WebVTT or SubRip as its first line says
JSON: Final = "application/json"  # chapters

_KIND_BY_TYPE: Final = {f.mime_type: f.kind for f in FORMATS}
_KIND_BY_MAJOR_TYPE: Final = {"video": m.MediaKind.VIDEO, "audio": m.MediaKind.AUDIO, "image": m.MediaKind.IMAGE}


def kind_for(mime_type: str) -> m.MediaKind:
    """The kind of media asset a file of this type is; another video, audio or image type by its major type."""
    return _KIND_BY_TYPE.get(mime_type) or _KIND_BY_MAJOR_TYPE[mime_type.split("/")[0]]
