"""A feed's public identity: its URL paths and its Podcasting 2.0 ``podcast:guid``."""

from __future__ import annotations

import uuid

# podcast:guid is the UUIDv5 of the feed URL (scheme and trailing slashes removed) in this namespace.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

FEED_PATHS = {"webinar_series": "/feeds/webinars/{slug}.xml", "module": "/feeds/modules/{slug}.xml"}


def podcast_guid(feed_url: str) -> uuid.UUID:
    """The Podcasting 2.0 ``podcast:guid`` of a feed URL."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return uuid.uuid5(PODCAST_GUID_NAMESPACE, bare)


def feed_url(base_url: str, kind: str, source_slug: str) -> str:
    """The public RSS URL of the feed of a webinar series or a module."""
    return base_url.rstrip("/") + FEED_PATHS[kind].format(slug=source_slug)
