"""Delivery feeds the download counter: a real listen is counted once, probes and HEAD never, and the
buffer is written out when the app stops."""

from __future__ import annotations

from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from tests.helpers.catalog import sync
from tests.helpers.database import sql

APPLE = "AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; fr_fr)"
ANTENNAPOD = "AntennaPod/3.2.0"


def test_listens_are_counted_once_and_probes_never(settings: Settings) -> None:
    sync(settings)
    url = settings.require_database_url()
    row = sql(url, "SELECT id FROM media_asset WHERE ref = 'webinar-2019-02.mp4'")[0]
    path = f"/media/{row['id']}/webinar-2019-02.mp4"
    with TestClient(app=create_app(settings)) as client:
        assert client.get(path, headers={"User-Agent": APPLE, "Range": "bytes=0-1"}).status_code == 206
        assert client.head(path, headers={"User-Agent": ANTENNAPOD}).status_code == 200
        assert client.get(path, headers={"User-Agent": ANTENNAPOD, "Range": "bytes=0-1"}).status_code == 206
        assert client.get(path, headers={"User-Agent": APPLE}).status_code == 200  # the whole replay
        assert client.get(path, headers={"User-Agent": APPLE}).status_code == 200  # again, same day
        assert client.get(path, headers={"User-Agent": "curl/8.5.0"}).status_code == 200  # not a listener
    # Leaving the client stopped the app, which wrote out everything it held.
    downloads = sql(url, "SELECT app FROM media_download WHERE asset_id = $1", row["id"])
    assert [d["app"] for d in downloads] == ["AppleCoreMedia"]  # the OPAWG list's name: any app of Apple's
    stored = sql(url, "SELECT count(*) AS n FROM media_request WHERE asset_id = $1", row["id"])[0]["n"]
    assert stored == 2  # the two full listens; probes, HEAD and bots were never stored
