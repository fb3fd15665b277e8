"""Download counting as the IAB Podcast Measurement Technical Guidelines v2 describe it (as OP3 and oDL do).

- A listener is sha256(salt of the UTC day ‖ IP ‖ user agent): raw IPs never leave memory, and a day's
  salt is deleted two days later, after which its hashes cannot be linked to anyone.
- One download per listener and asset in a rolling 24-hour window: no two downloads of one listener for
  one asset have windows starting less than 24 hours apart. A request outside every counted window looks
  at the listener's requests of the previous 24 hours that belong to no earlier window; once the union of
  their byte ranges covers one minute of audio (size × 60 / duration bytes; the whole file when it is
  shorter than a minute or its duration is unknown), a download is counted, its window starting at the
  earliest of those requests. Re-requesting the same bytes adds nothing.
- HEAD requests, ``Range: bytes=0-1`` probes and bots never count. Bots and the listening app's name come
  from the user agent, through the OPAWG list vendored unchanged in ``learning/media/data/opawg``.

Delivery never waits for any of this: ``DownloadRecorder.record`` appends to a bounded buffer in memory
(refusing, counting and logging what does not fit: see ``DownloadRecorder``), and a background task writes
batches, one transaction per batch. A batch is counted by one statement whatever its size: its requests
stored, the downloads decided by ``rules.count_downloads``'s walk written in SQL, and the day rollup
(``download_day``, what the admin's figures read) updated by a statement trigger.

Modules: ``rules`` (the counting rules, pure), ``agents`` (bots and listening apps from the user agent),
``batch`` (a batch as the counting statement's arrays), ``repository`` (every query), ``recorder`` (the
buffer and its writer), ``maintenance`` (retention), ``stats`` (the statistics the admin reads).
"""

from learning.media.downloads.agents import OTHER_APP, listening_app
from learning.media.downloads.recorder import DownloadRecorder, RecorderStatus
from learning.media.downloads.repository import DownloadRepository
from learning.media.downloads.rules import WINDOW, Hit, count_downloads, covered_bytes, listener_hash, threshold_bytes
from learning.media.downloads.stats import (
    AssetDownloads,
    AssetNotFound,
    AssetTotal,
    DownloadStatsService,
    InvalidPeriod,
    Period,
    resolve_period,
)

__all__ = [
    "OTHER_APP",
    "WINDOW",
    "AssetDownloads",
    "AssetNotFound",
    "AssetTotal",
    "DownloadRecorder",
    "DownloadRepository",
    "DownloadStatsService",
    "Hit",
    "InvalidPeriod",
    "Period",
    "RecorderStatus",
    "count_downloads",
    "covered_bytes",
    "listener_hash",
    "listening_app",
    "resolve_period",
    "threshold_bytes",
]
