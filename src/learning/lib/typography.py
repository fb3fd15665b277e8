"""French typography, applied by code to what the learners read: ``french_text`` for plain text (feed titles and
summaries), ``french_html`` for HTML (lessons, search snippets, whole pages), touching text nodes only.

The rules (Imprimerie nationale, *Lexique des règles typographiques*), written with two no-break spaces:

- U+202F NARROW NO-BREAK SPACE before ``;`` ``!`` ``?``, and inside « » (``«\u202fmot\u202f»``);
- U+00A0 NO-BREAK SPACE before ``:`` (a full-width space there), between a number and its unit or ``%``
  (``56\u00a0%``, ``3\u00a0km``) and inside times (``11\u00a0h\u00a000``); the space of a thousands group
  written by the author becomes U+202F (``10\u202f000``);
- quotes inside « » are “ ” (no space inside); straight ``"…"`` become « »; ``'`` between letters is ``’``.

A space (or line break) before the mark is replaced; a mark written without one gets one only where it cannot
be anything else (after a word, before a space or the end), so ``https://``, ``12:30`` and ``a?b=c`` stay as they
are. URLs and e-mail addresses in text, ISO date-times, and the content of ``code``, ``pre``, ``kbd``, ``samp``,
``script``, ``style`` and ``textarea`` are never changed; neither are tags and attributes. Both functions are
idempotent: applying them to their own output changes nothing.

No library fitted (issue 21): the French-capable ones either leave nested « » alone and put U+00A0 inside « »
(polytypo), or do not parse HTML (french-typo), and typogrify/smartypants are English-only.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["NBSP", "NNBSP", "french_html", "french_text"]

NBSP = "\u00a0"  # NO-BREAK SPACE: before « : », number and unit
NNBSP = "\u202f"  # NARROW NO-BREAK SPACE: before « ; ! ? », inside « »

_SPACES = "[ \t\r\n\f\u00a0\u202f\u2009]"  # what may stand between a word and its mark (one run, replaced)
_HOLE = "\ue000"  # stands for a protected span (URL, e-mail, date-time) while the rules run

_PROTECTED = re.compile(
    r"(?:https?|ftp)://\S+|mailto:\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}\S*|" + _HOLE
)
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=\w)")
_STRAIGHT_QUOTES = re.compile(r'(?<!\w)"(?=\S)([^"\n]*?)(?<=\S)"(?!\w)')
_OPEN = re.compile("«" + _SPACES + "*")
_CLOSE = re.compile(_SPACES + "*»")
_OPEN_INNER = re.compile("“" + _SPACES + "+")
_CLOSE_INNER = re.compile(_SPACES + "+”")
# A run of spaces after a word-ish character, before the mark: the run is replaced. Without a run, a space is
# added only when the mark ends something (a space, a closing mark or the end follows).
_AFTER_WORD = r"(?<=[\w…»”)\]*" + _HOLE + "])"  # ``*``: search snippets are cut from Markdown
_END = r"(?:$|[\s»”)\].,;:!?…]|" + _HOLE + ")"
_ENDS = "(?=" + _END + ")"
_NARROW_RUN = re.compile(_AFTER_WORD + _SPACES + "+(?=[;!?]" + _END + ")")
_NARROW_GLUED = re.compile(_AFTER_WORD + "(?<![;!?])([;!?])" + _ENDS)
_COLON_RUN = re.compile(_AFTER_WORD + _SPACES + "+(?=:" + _END + ")")
_COLON_GLUED = re.compile(_AFTER_WORD + "(:)" + _ENDS)
_TIME = re.compile(r"(?<![\w.,:])(\d{1,2})" + _SPACES + r"*h" + _SPACES + r"*(\d{2})(?!\w)")
_UNITS = "%|‰|€|\\$|£|°C|h|min|s|ms|km|m|cm|mm|m²|km²|ha|kg|mg|ml|ko|Mo|Go|To|kWh|MWh"
_UNIT = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)" + _SPACES + "+(" + _UNITS + r")(?![\w’'])")
_PERCENT_GLUED = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)([%‰€])")
_THOUSANDS = re.compile(r"(?<![\w.,])\d{1,3}(?:[ \u00a0]\d{3})+(?![\w.,]\d|\w)")

_WORDISH = re.compile(r"[\w…»”)\]*]")
_SKIP = frozenset({"code", "pre", "kbd", "samp", "script", "style", "textarea"})
_RAW = frozenset({"script", "style"})  # html.parser hands their content over as it is: give it back so
_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html",
    "li", "main", "nav", "ol", "option", "p", "pre", "section", "summary", "table", "td", "th", "title", "tr", "ul",
})  # fmt: skip


class _Quotes:
    """How deep inside « » the text is: a « inside « » is written “ and its » is written ”."""

    def __init__(self) -> None:
        self.depth = 0

    def nest(self, text: str) -> str:
        if "«" not in text and "»" not in text:
            return text
        out = []
        for char in text:
            if char == "«":
                self.depth += 1
                out.append("“" if self.depth > 1 else "«")
            elif char == "»" and self.depth > 0:
                self.depth -= 1
                out.append("”" if self.depth > 0 else "»")
            else:
                out.append(char)
        return "".join(out)


def _group(match: re.Match[str]) -> str:
    return re.sub("[ \u00a0]", NNBSP, match.group(0))


def _rules(text: str, quotes: _Quotes) -> str:
    holes: list[str] = []

    def hide(match: re.Match[str]) -> str:
        holes.append(match.group(0))
        return _HOLE

    text = _PROTECTED.sub(hide, text)
    text = _APOSTROPHE.sub("’", text)
    text = _STRAIGHT_QUOTES.sub(lambda found: f"«{NNBSP}{found.group(1)}{NNBSP}»", text)
    text = quotes.nest(text)
    text = _OPEN.sub("«" + NNBSP, text)
    text = _CLOSE.sub(NNBSP + "»", text)
    text = _OPEN_INNER.sub("“", text)
    text = _CLOSE_INNER.sub("”", text)
    text = _NARROW_RUN.sub(NNBSP, text)
    text = _NARROW_GLUED.sub(NNBSP + r"\1", text)
    text = _COLON_RUN.sub(NBSP, text)
    text = _COLON_GLUED.sub(NBSP + r"\1", text)
    text = _TIME.sub(rf"\1{NBSP}h{NBSP}\2", text)
    text = _UNIT.sub(rf"\1{NBSP}\2", text)
    text = _PERCENT_GLUED.sub(rf"\1{NBSP}\2", text)
    text = _THOUSANDS.sub(_group, text)
    if holes:
        restore = iter(holes)
        text = re.sub(_HOLE, lambda _: next(restore), text)
    return text


def french_text(text: str) -> str:
    """Plain ``text`` (not HTML) with French typography."""
    return _rules(text, _Quotes())


class _Typographer(HTMLParser):
    """Rewrites an HTML document's text nodes and gives back everything else as it came."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping: list[str] = []  # the open elements whose text is left alone
        self.quotes = _Quotes()
        self.last = ""  # the last character of the text before, in the same block: the context of the next node

    def _boundary(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.quotes = _Quotes()
            self.last = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")
        self._boundary(tag)
        if tag in _SKIP:
            self.skipping.append(tag)
            self.last = ""

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")
        self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")
        self._boundary(tag)
        if tag in _SKIP and tag in self.skipping:
            while self.skipping.pop() != tag:
                pass
            self.last = "" if tag in _BLOCKS else "x"  # ``<code>ls</code> ?``: the code is a word of the sentence

    def handle_data(self, data: str) -> None:
        if self.skipping:
            raw = self.skipping[-1] in _RAW
            self.out.append(data if raw else html.escape(data, quote=False))
            return
        text = self._text(data)
        if text:
            self.last = text[-1]
        self.out.append(html.escape(text, quote=False))

    def _text(self, data: str) -> str:
        # Whether the previous node ended a word (``<em>vraiment</em>?``) matters to the next one: a stand-in
        # letter is put before the node for the rules to see, then dropped.
        if _WORDISH.match(self.last):
            return _rules("x" + data, self.quotes)[1:]  # no rule changes a letter that starts the text
        return _rules(data, self.quotes)

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.out.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.out.append(f"<![{data}]>")


def french_html(document: str) -> str:
    """``document`` (an HTML page or fragment) with French typography in its text nodes."""
    parser = _Typographer()
    parser.feed(document)
    parser.close()
    return "".join(parser.out)
