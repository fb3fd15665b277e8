"""Reading and validating the content files (``modules/``, ``feeds/``, ``media/``).

Everything is validated before anything is written: every problem is collected with its file and line,
so one run of ``learning content sync`` shows them all. The rules that tie keys together (a video lesson
needs a ``media``, a session with a replay available needs a ``replay``) are checked once each key of that
file is valid on its own.

Modules: ``documents`` reads a file once (YAML values and the line of each key), ``front_matter`` declares
the keys of each kind of file as msgspec models, ``validation`` converts a file to its model with messages
that name the line, ``loader`` walks the folders and checks files against each other, ``sources`` holds
the result. ``durations`` checks a media lesson's declared ``duration`` against its measured media, once
sync has imported (and probed) the files.

Layout::

    modules/<module-slug>/module.yaml            the module
    modules/<module-slug>/NN-<lesson-slug>.md    its lessons (YAML front matter + Markdown), in NN order
    feeds/webinars/<series-slug>/series.yaml     a webinar series
    feeds/webinars/<series-slug>/<slug>.md       its sessions (front matter + Markdown)
    feeds/<feed-slug>.yaml                       one published podcast feed
    media/<file>                                 shipped media, referred to by file name (or name stem)
"""

from learning.catalog.content.documents import ContentError, SourceError
from learning.catalog.content.loader import load_content
from learning.catalog.content.sources import (
    ContentBundle,
    FeedSource,
    LessonSource,
    MediaSource,
    ModuleSource,
    Publication,
    SeriesSource,
    SessionSource,
)

__all__ = [
    "ContentBundle",
    "ContentError",
    "FeedSource",
    "LessonSource",
    "MediaSource",
    "ModuleSource",
    "Publication",
    "SeriesSource",
    "SessionSource",
    "SourceError",
    "load_content",
]
