"""Markdown to HTML that is safe to insert in a page: raw HTML is not interpreted, and the result is
sanitised again (nh3, the Rust ammonia library) so no script can come through content. Its text follows French
typography (``lib/typography``), so the stored ``body_html`` does, and the feeds that carry it."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from learning.lib.typography import french_html

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"style"}, "th": {"style"}}


def render_markdown(text: str) -> str:
    html = _renderer.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        filter_style_properties={"text-align"},
    )
    return french_html(clean)
