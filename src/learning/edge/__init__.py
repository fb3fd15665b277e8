"""The edge: ready answers in front of the app, invalidated through one LISTEN/NOTIFY hub.

- ``hub``: the process's one listening connection and its subscribers (catalog answers, verified tokens).
- ``answers``: the store of ready answers (rendered documents, media snapshots).
- ``respond``: the one header builder and the planning of answers (with ``lib.http_ranges.evaluate``).
- ``component``: the ASGI layer that serves stored answers and fails open.
- ``routes``: how routes answer with documents and hand them to the store.
"""

from learning.edge.answers import AnswerStore, Deliverable, Rendered, compressed, media_key, render_json, strong_etag
from learning.edge.component import Edge
from learning.edge.hub import ACCOUNTS, CATALOG, NotifyHub

__all__ = [
    "ACCOUNTS",
    "CATALOG",
    "AnswerStore",
    "Deliverable",
    "Edge",
    "NotifyHub",
    "Rendered",
    "compressed",
    "media_key",
    "render_json",
    "strong_etag",
]
