"""The ids that leave the server (feed item guids, catalog ids in the API, media ids in URLs), derived from
what the content is rather than drawn at random: two installations built from the same files publish the
same feeds, and a rebuilt database does not make every episode look new to podcast apps.

Catalog rows are named by their slug path, shipped media files by their content (SHA-256) and file name.
Uploaded replays derive theirs from their upload id (``jobs/replays.py``). Only new rows get derived ids:
a row keeps the id it was created with, so what an installation already published never changes.
"""

from __future__ import annotations

import uuid

# The one namespace of every derived id (drawn once at random). Never change it: every published id depends on it.
CONTENT_NAMESPACE = uuid.UUID("f6f4c7e5-fece-43f5-84b5-0d136a60c6ad")


def content_id(path: str) -> uuid.UUID:
    """The UUIDv5 of a slug path such as ``module/<slug>/lesson/<slug>``."""
    return uuid.uuid5(CONTENT_NAMESPACE, path)


def module_id(slug: str) -> uuid.UUID:
    return content_id(f"module/{slug}")


def lesson_id(module_slug: str, slug: str) -> uuid.UUID:
    return content_id(f"module/{module_slug}/lesson/{slug}")


def series_id(slug: str) -> uuid.UUID:
    return content_id(f"series/{slug}")


def session_id(series_slug: str, slug: str) -> uuid.UUID:
    return content_id(f"series/{series_slug}/session/{slug}")


def feed_id(slug: str) -> uuid.UUID:
    return content_id(f"feed/{slug}")


def shipped_media_id(sha256: str, ref: str) -> uuid.UUID:
    """A shipped file's asset: its content hash, and its name so that two identical files stay two assets.

    A changed file is a new asset with a new URL (what was served under the old URL never changes).
    """
    return content_id(f"media/sha256/{sha256}/{ref}")


def rendition_id(parent: uuid.UUID, role: str) -> uuid.UUID:
    """A rendition (the audio ``.m4a``, the poster) of an asset: derived from its parent's id."""
    return uuid.uuid5(parent, role)
