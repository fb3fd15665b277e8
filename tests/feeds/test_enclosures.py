"""Every file the shipped feeds enclose starts playing at once: an MP4 or M4A enclosure has its index
(``moov``) before its data (``mdat``); an MP3 has no index to place."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import sql
from tests.helpers.media import is_faststart, top_level_boxes


def test_every_enclosure_of_the_shipped_feeds_is_faststart(settings: Settings, client: TestClient[Any]) -> None:
    sync(settings)
    sql(settings.require_database_url(), "UPDATE module SET publication = 'published', publish_at = NULL")
    feeds = [
        f"/feeds/modules/{row['slug']}.xml" for row in sql(settings.require_database_url(), "SELECT slug FROM module")
    ]
    feeds.append("/feeds/webinars/innovation-territoriale-en-actions-2019.xml")
    checked = 0
    for feed in feeds:
        root = ET.fromstring(client.get(feed).content)
        for enclosure in root.iter("enclosure"):
            kind = enclosure.attrib["type"]
            body = client.get(urlsplit(enclosure.attrib["url"]).path).content
            assert len(body) == int(enclosure.attrib["length"])
            if kind == "audio/mpeg":
                assert body[:3] == b"ID3" or body[0] == 0xFF
            else:
                assert is_faststart(body), (enclosure.attrib["url"], top_level_boxes(body))
            checked += 1
    assert checked == 9 + 12  # the media lessons and the replays
