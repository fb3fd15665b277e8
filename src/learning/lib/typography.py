"""French typography, applied by code to what the learners read: ``french_text`` for plain text (feed titles and
summaries), ``french_html`` for HTML (lessons, search snippets, whole pages), touching text nodes only.

The rules (Imprimerie nationale, *Lexique des règles typographiques*), written with two no-break spaces:

- U+202F NARROW NO-BREAK SPACE before ``;`` ``!`` ``?``, and inside « » (``«\u202fmot\u202f»``);
- U+00A0 NO-BREAK SPACE before ``:`` (a full-width space there), between a number and its unit or ``%``
  (``56\u00a0%``, ``3\u00a0km``) and inside times (``11\u00a0h\u00a000``); the space of a thousands group
  written by the author becomes U+202F (``10\u202f000``); numbers are not grouped by code (``2019``, ``75001``);
- quotes inside « » are “ ” (no space inside); straight ``"…"`` become « »; ``'`` between letters is ``’``.

A space (or line break) before the mark is replaced; a mark written without one gets one only where it cannot
be anything else (after a word, before a space or the end), so ``https://``, ``12:30`` and ``a?b=c`` stay as they
are. URLs, e-mail addresses, character references and ISO date-times in text, the content of ``code``, ``pre``,
``kbd``, ``samp``, ``script``, ``style`` and ``textarea``, and of any element marked ``translate="no"`` (a file
name) or with a ``lang`` other than French, are never changed; neither are tags and attributes. Both functions
are idempotent: applying them to their own output changes nothing.

No library fitted (issue 21). polytypo 1.16 (locale ``fr``, HTML mode) comes closest, but writes U+00A0 inside
« » with no way to ask for U+202F there, leaves nested « » as they are, leaves a line break after « breakable,
does not touch ``11 h 00``, and brings tree-sitter along; french-typo 1.6 works on plain text, not HTML;
typogrify and smartypants are English-only.
"""

from __future__ import annotations

import re
from html import escape, unescape

__all__ = ["NBSP", "NNBSP", "french_html", "french_text"]

NBSP = "\u00a0"  # NO-BREAK SPACE: before « : », number and unit
NNBSP = "\u202f"  # NARROW NO-BREAK SPACE: before « ; ! ? », inside « »

_SPACES = "[ \t\r\n\f\u00a0\u202f\u2009]"  # what may stand between a word and its mark (one run, replaced)
_HOLE = "\ue000"  # stands for a protected span (URL, e-mail, date-time) while the rules run

_PROTECTED = re.compile(
    r"(?:https?|ftp)://\S+|mailto:\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}\S*|&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|" + _HOLE
)
_DIGITS = frozenset("0123456789")  # ASCII digits: the number rules below read no other
_MAY_PROTECT = frozenset("/@&:" + _HOLE)  # in every URL, e-mail address, character reference, date-time
_TRIGGERS = _DIGITS | frozenset("'\"«»“”:;!?")  # a character that some rule starts from
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
_TIME = re.compile(r"(?<![\w.,:])([0-9]{1,2})" + _SPACES + r"*h" + _SPACES + r"*([0-9]{2})(?!\w)")
_UNITS = "%|‰|€|\\$|£|°C|h|min|s|ms|km|m|cm|mm|m²|km²|ha|kg|mg|ml|ko|Mo|Go|To|kWh|MWh"
_UNIT = re.compile(r"(?<![\w.,])([0-9]+(?:[.,][0-9]+)?)" + _SPACES + "+(" + _UNITS + r")(?![\w’'])")
_PERCENT_GLUED = re.compile(r"(?<![\w.,])([0-9]+(?:[.,][0-9]+)?)([%‰€])")
_THOUSANDS = re.compile(r"(?<![\w.,])[0-9]{1,3}(?:[ \u00a0][0-9]{3})+(?![\w.,][0-9]|\w)")

_WORDISH = re.compile(r"[\w…»”)\]*]")
_SKIP = frozenset({"code", "pre", "kbd", "samp", "script", "style", "textarea"})
_RAW = frozenset({"script", "style"})  # their content is not HTML: it runs to their end tag
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
})  # fmt: skip
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
    # Each rule runs only where its mark is (``in`` and set tests are much cheaper than a regex scan): most text
    # nodes of a page are indentation or plain words.
    if _TRIGGERS.isdisjoint(text):
        return text
    holes: list[str] = []

    def hide(match: re.Match[str]) -> str:
        holes.append(match.group(0))
        return _HOLE

    if not _MAY_PROTECT.isdisjoint(text) or "www." in text:
        text = _PROTECTED.sub(hide, text)
    if "'" in text:
        text = _APOSTROPHE.sub("’", text)
    if '"' in text:
        text = _STRAIGHT_QUOTES.sub(lambda found: f"«{NNBSP}{found.group(1)}{NNBSP}»", text)
    if "«" in text or "»" in text:
        text = quotes.nest(text)
        text = _OPEN.sub("«" + NNBSP, text)
        text = _CLOSE.sub(NNBSP + "»", text)
    if "“" in text or "”" in text:
        text = _OPEN_INNER.sub("“", text)
        text = _CLOSE_INNER.sub("”", text)
    if ";" in text or "!" in text or "?" in text:
        text = _NARROW_RUN.sub(NNBSP, text)
        text = _NARROW_GLUED.sub(NNBSP + r"\1", text)
    if ":" in text:
        text = _COLON_RUN.sub(NBSP, text)
        text = _COLON_GLUED.sub(NBSP + r"\1", text)
    if not _DIGITS.isdisjoint(text):
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


# A tag, comment or declaration; what lies between two of them is text. Quoted attribute values may hold ``>``.
_MARKUP = re.compile(r"<!--.*?(?:-->|$)|<[!?][^>]*>|</?[A-Za-z][^\s/>]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_ATTRIBUTE = re.compile(r"""\s(translate|lang)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def _not_french(tag: str) -> bool:
    """An element marked as not to be translated (file names, identifiers) or as written in another language."""
    for name, *values in _ATTRIBUTE.findall(tag):
        value = "".join(values).strip().lower()
        if name.lower() == "translate" and value == "no":
            return True
        if name.lower() == "lang" and not (value == "fr" or value.startswith("fr-")):
            return True
    return False


class _Typographer:
    """Rewrites an HTML document's text nodes and gives back everything else byte for byte. A tokenizer rather than
    a parser: it only needs to tell text from markup, and it is several times faster than ``html.parser``, which
    matters as every page goes through it."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.skipped: str | None = None  # the element whose text is left alone, while inside it
        self.nested = 0  # how many elements of that name are open inside it
        self.quotes = _Quotes()
        self.last = ""  # the last character of the text before, in the same block: the context of the next node

    def run(self, document: str) -> str:
        position = 0
        while (found := _MARKUP.search(document, position)) is not None:
            self.text(document[position : found.start()])
            markup = found.group(0)
            self.out.append(markup)
            position = found.end()
            tag = _TAG.match(markup)
            if tag is None:
                continue  # a comment or a declaration
            name = tag.group(2).lower()
            if tag.group(1):
                self.end(name)
            elif name in _RAW:  # script or style: its content is not HTML, and runs to its end tag
                close = re.compile(rf"</{name}\s*>", re.I).search(document, position)
                stop = close.start() if close is not None else len(document)
                self.out.append(document[position:stop])
                position = stop
            else:
                self.start(name, markup)
        self.text(document[position:])
        return "".join(self.out)

    def _boundary(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.quotes = _Quotes()
            self.last = ""

    def start(self, tag: str, markup: str) -> None:
        self._boundary(tag)
        if self.skipped is not None:
            self.nested += tag == self.skipped
        elif tag not in _VOID and (tag in _SKIP or _not_french(markup)):
            self.skipped, self.nested, self.last = tag, 1, ""

    def end(self, tag: str) -> None:
        self._boundary(tag)
        if tag == self.skipped:
            self.nested -= 1
            if not self.nested:
                self.skipped = None
                self.last = "" if tag in _BLOCKS else "x"  # ``<code>ls</code> ?``: the code is a word here

    def text(self, raw: str) -> None:
        if not raw:
            return
        if self.skipped is not None:
            self.out.append(raw)
            return
        data = unescape(raw) if "&" in raw else raw
        # Whether the previous node ended a word (``<em>vraiment</em>?``) matters to this one: a stand-in letter
        # is put before the node for the rules to see, then dropped (no rule changes a letter that starts a text).
        done = _rules("x" + data, self.quotes)[1:] if _WORDISH.match(self.last) else _rules(data, self.quotes)
        if done:
            self.last = done[-1]
        self.out.append(raw if done == data else escape(done, quote=False))  # quotes need no escaping in text


def french_html(document: str) -> str:
    """``document`` (an HTML page or fragment) with French typography in its text nodes."""
    return _Typographer().run(document)
