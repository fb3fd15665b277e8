"""No English reaches a French page (issue 22): every page a visitor, a learner and an admin can reach by
following links, the pages of the forms' answers, flash messages and errors, and every reason the processing
of an uploaded replay can record for the admin desk, are scanned for English wording.

The visible text is what a reader sees or hears: text nodes (not scripts, styles, code, nor an element marked
``translate="no"``, which holds file names), the page's title, and the ``alt``, ``title``, ``aria-label``,
``placeholder`` and button values, and the meta description. URLs, e-mail addresses, file names and the
proper names of apps and formats are taken out before looking for common English words."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from litestar.testing import TestClient

from learning.app import create_app
from learning.config import Settings
from learning.web.admin import DONE
from tests.helpers.catalog import SERIES
from tests.web.conftest import MODULE, TEXT_LESSON, csrf_token, make_admin, sign_in, sign_up

SOURCE = Path(__file__).resolve().parents[2] / "src" / "learning"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

# --- what is English ---------------------------------------------------------------------------------------
# Names that stay as they are in a French sentence: apps, formats, standards.
PROPER_NAMES = re.compile(
    r"\b(?:Apple Podcasts|AntennaPod|Pocket Casts|gPodder|Podcast Addict|Podcast Index|Podcasting 2\.0|Spotify|"
    r"Overcast|Castro|Google Podcasts|Podverse|Fountain|WebVTT|RSS|Atom|MP4|M4A|MOV|MP3|WebM|QuickTime|Matroska|"
    r"H\.264|AAC|Opus|Vorbis|JSON|xAPI|OPAWG|Open Graph|tus|open source)\b",
)
NOT_WORDS = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S+"  # URLs (http, podcast, feed…)
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail addresses
    r"|\b(?:video|audio|image|text|application)/[\w.+-]+"  # media types
    r"|(?<![\w/])/[\w./?=&%#:-]*"  # paths
    r"|\b[\w-]+(?:\.[\w-]+)+\b"  # file names, host names (« chapitres.vtt », « example.org »)
    r"|\.\w{2,4}\b",  # bare extensions (« .vtt »)
    re.IGNORECASE,
)
# Common English function words and the words of interfaces and errors; none of them is a French word (the
# accented French ones, « thé », « invalide », « erreur », do not match as whole words).
ENGLISH = re.compile(
    r"\b(?:the|and|or|of|to|is|are|was|were|be|been|not|no|with|without|your|you|this|that|these|those|for|from|"
    r"into|by|at|it|its|has|have|can|cannot|could|would|should|must|will|please|here|there|which|what|when|"
    r"found|invalid|error|errors|failed|failure|fail|missing|required|unknown|unsupported|unprocessable|"
    r"allowed|method|request|requests|forbidden|unauthorized|server|internal|too|many|bad|wrong|denied|"
    r"file|files|browser|click|tap|sign|signed|login|log|logout|password|account|email|upload|uploads|"
    r"download|downloads|home|search|results|submit|cancel|save|delete|back|next|previous|loading|"
    r"copy|copied|subscribe|share|settings|help|close|open|show|hide|skip|video|lesson|lessons|done|ready|"
    r"processing|pending|picture|decoded|token)\b",
    re.IGNORECASE,
)


def english_in(text: str) -> list[str]:
    """The English words of ``text`` (none: an empty list)."""
    return ENGLISH.findall(PROPER_NAMES.sub(" ", NOT_WORDS.sub(" ", text)))


def shown(text: str, words: list[str]) -> str:
    """The words found, then the text they were found in (shortened)."""
    text = " ".join(text.split())
    return f"{', '.join(words)} — in « {text if len(text) <= 160 else text[:157] + '…'} »"


# --- what a reader sees ------------------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HIDDEN = {"script", "style", "code", "pre", "kbd", "samp", "template"}
SHOWN_ATTRIBUTES = ("alt", "title", "aria-label", "placeholder", "aria-description")


class VisibleText(HTMLParser):
    """The text of a page a reader sees or hears, and the page's own links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.open: list[tuple[str, bool]] = []  # open elements, and whether their text is left out

    @property
    def skipping(self) -> bool:
        return any(skipped for _, skipped in self.open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        skipped = self.skipping or tag in HIDDEN or found.get("translate") == "no"
        if not skipped:
            self.parts += [found[name] or "" for name in SHOWN_ATTRIBUTES if found.get(name)]
            if tag == "input" and found.get("type") in {"submit", "button", "reset"} and found.get("value"):
                self.parts.append(found["value"] or "")
            if tag == "meta" and (
                found.get("name") == "description" or found.get("property") in {"og:title", "og:description"}
            ):
                self.parts.append(found.get("content") or "")
        if tag not in VOID:
            self.open.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.parts.append(data)


def read(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return parser


class Scan:
    """Pages read so far, and the English found on them."""

    def __init__(self) -> None:
        self.found: list[str] = []
        self.pages = 0
        self.crawled: list[str] = []

    def page(self, label: str, response: Any) -> VisibleText:
        assert "text/html" in response.headers.get("content-type", ""), f"{label}: not a page"
        text = read(response.text)
        self.pages += 1
        self.found += [f"{label}: {shown(part, words)}" for part in text.parts if (words := english_in(part))]
        return text

    def crawl(self, client: TestClient[Any], starts: list[str], inside: tuple[str, ...]) -> None:
        """Follow the links of the pages under ``inside`` (GET, this site), from ``starts``: every page once,
        with the query of the first link to it."""
        queue, seen = list(starts), {urlsplit(start).path for start in starts}
        while queue:
            path = queue.pop(0)
            self.crawled.append(path)
            response = client.get(path, headers=BROWSER)
            assert response.status_code == 200, f"{path}: {response.status_code}"
            if "text/html" not in response.headers.get("content-type", ""):
                continue  # a file the page offers (a download, a media file)
            for href in self.page(path, response).links:
                target = urlsplit(urljoin(f"http://testserver{path}", href))
                found = target.path + (f"?{target.query}" if target.query else "")
                # Not pages: media and feeds, and the API reference, written in English for developers.
                page = not target.path.startswith(("/media/", "/feeds/", "/static/", "/api/", "/schema"))
                if target.netloc == "testserver" and found.startswith(inside) and target.path not in seen and page:
                    seen.add(target.path)
                    queue.append(found)

    def verdict(self) -> str:
        return f"English on {self.pages} French pages:\n" + "\n".join(self.found)


@pytest.fixture
def browsing(web_settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(web_settings)) as client:
        client.headers.update(BROWSER)
        yield client


PUBLIC = ("/modules", "/webinaires", "/mentions-legales", "/donnees-personnelles", "/accessibilite")


def test_no_english_on_the_public_pages(browsing: TestClient[Any]) -> None:
    scan = Scan()
    scan.crawl(browsing, ["/", *PUBLIC, "/recherche?q=territoire", "/connexion", "/inscription"], ("/",))
    reached = {urlsplit(path).path for path in scan.crawled}
    assert {*PUBLIC, f"/modules/{MODULE}/lecons/{TEXT_LESSON}", f"/webinaires/{SERIES}"} <= reached, reached
    assert len(reached) > 40, reached  # every module, lesson, series and session
    for path in ("/recherche?q=zzqxw", "/recherche?q=" + "x" * 300, "/recherche"):
        scan.page(path, browsing.get(path))
    assert not scan.found, scan.verdict()


def test_no_english_on_the_account_pages_and_their_messages(browsing: TestClient[Any]) -> None:
    scan = Scan()
    email = sign_up(browsing)
    browsing.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(browsing)})
    scan.page("enrolled", browsing.get(f"/modules/{MODULE}?inscrit=1"))
    done = browsing.post(f"/modules/{MODULE}/lecons/{TEXT_LESSON}/terminee", data={"_csrf_token": csrf_token(browsing)})
    scan.page("lesson done", done)
    scan.crawl(browsing, ["/compte"], ("/compte",))
    for action in ("create", "create", "revoke", "revoke"):
        answer = browsing.post("/compte/jeton-prive", data={"action": action, "_csrf_token": csrf_token(browsing)})
        scan.page(f"feed token: {action}", answer)
    browsing.post("/deconnexion", data={"_csrf_token": csrf_token(browsing)})
    scan.page("wrong password", sign_in(browsing, email, "pas le bon mot de passe"))
    for form in (
        {"email": email, "password": "une phrase de passe assez longue"},  # taken
        {"email": "ines@example.org", "password": "court"},  # weak
        {"email": "pas-une-adresse", "password": "une phrase de passe assez longue"},  # not an address
    ):
        form |= {"display_name": "", "suite": "/", "_csrf_token": csrf_token(browsing, "/inscription")}
        answer = browsing.post("/inscription", data=form)
        assert answer.status_code == 400, answer.text
        scan.page(f"sign-up refused ({form['email']}, {form['password']})", answer)
    assert not scan.found, scan.verdict()


def test_no_english_on_the_admin_pages(browsing: TestClient[Any], web_settings: Settings) -> None:
    scan = Scan()
    answer = sign_in(browsing, make_admin(web_settings))
    assert answer.status_code == 303, answer.text
    scan.crawl(browsing, ["/admin/", "/admin/envoi"], ("/admin/",))
    downloads = [path for path in scan.crawled if path.startswith("/admin/telechargements/")]
    assert downloads, scan.crawled
    for key in DONE:
        scan.page(f"/admin/?fait={key}", browsing.get(f"/admin/?fait={key}"))
    answer = browsing.get(downloads[0].split("?")[0] + "?jours=9999")
    assert answer.status_code == 400, answer.status_code
    scan.page("400 (a period too long)", answer)
    assert not scan.found, scan.verdict()


def test_no_english_on_the_error_pages(browsing: TestClient[Any]) -> None:
    scan = Scan()
    cases = {
        "404": browsing.get("/cette-page-n-existe-pas"),
        "404 of a module": browsing.get("/modules/pas-de-module"),
        "404 of a series": browsing.get(f"/webinaires/{SERIES}/pas-de-seance"),
        "405": browsing.get("/deconnexion"),
        "400 (a form without its fields)": browsing.post(
            "/connexion", data={"_csrf_token": csrf_token(browsing, "/connexion")}
        ),
        "403 (CSRF)": browsing.post("/connexion", data={"email": "a@example.org", "password": "x"}),
        "account, signed out": browsing.get("/compte"),
    }
    for label, answer in cases.items():
        if label[0].isdigit():
            assert answer.status_code == int(label[:3]), f"{label}: {answer.status_code} {answer.text[:300]}"
        scan.page(label, answer)
    sign_up(browsing)
    answer = browsing.get("/admin/")  # a learner at the admin desk
    assert answer.status_code == 403, answer.status_code
    scan.page("403 (admin page, learner)", answer)
    assert not scan.found, scan.verdict()


# A string literal of the pages' scripts that reads as prose: two words with a space between them.
_SCRIPT_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
_PROSE = re.compile(r"[^\W\d_]{2,}(?:\s|\\u00a0|\\u202f)+[^\W\d_]")
SCRIPT_CODE = {"use strict"}  # the literals that are code, not words for a reader


def test_the_messages_the_pages_scripts_write_are_french() -> None:
    scripts = sorted((SOURCE / "web" / "static").glob("*.js"))
    messages = [
        (script.name, text)
        for script in scripts
        for match in _SCRIPT_STRING.finditer(script.read_text(encoding="utf-8"))
        if (text := match.group(1) if match.group(1) is not None else match.group(2) or "")
        and _PROSE.search(text)
        and text not in SCRIPT_CODE
    ]
    assert len(messages) > 30, messages  # the scan finds the messages (it broke if it finds none)
    english = [f"{name}: {shown(text, words)}" for name, text in messages if (words := english_in(text))]
    assert not english, "English in the pages' scripts:\n" + "\n".join(english)


# --- what processing can tell the admin desk ------------------------------------------------------------------
# Whatever these raise or pass on becomes an upload's ``error``, which the admin desk shows. (``NotRetryable``
# is not one: it refuses an API call, in the API's English, and the page checks first and says it in French.)
RECORDERS = {"UnsupportedMedia", "MediaProcessingFailed", "TargetGone", "_fail", "_reject", "fail"}
FOLDERS = ("uploads", "jobs", "media")


def _constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level string constants of the scanned code (``SEND_ACCEPTED``, ``UNEXPECTED``…)."""
    found: dict[str, str] = {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant | ast.JoinedStr):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and (text := _text(node.value, {})) is not None:
                        found[target.id] = text
    return found


def _text(node: ast.AST, constants: dict[str, str]) -> str | None:
    """A string expression as a reader would see it: a constant, an f-string (its unknown parts as « … »),
    an implicit concatenation or a ``+``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                inner = value.value
                parts.append(constants.get(inner.id, "…") if isinstance(inner, ast.Name) else "…")
            else:
                parts.append(_text(value, constants) or "")
        return "".join(parts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, constants), _text(node.right, constants)
        return None if left is None and right is None else (left or "…") + (right or "…")
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def failure_reasons() -> dict[str, str]:
    """Every message the upload, job and media code gives an upload as its failure reason, by where it is
    written: the arguments of the errors and calls that record one, what the functions they are given
    return, and the French names of the file kinds those messages insert (``sniffing``'s ``fr=``)."""
    files = [path for folder in FOLDERS for path in sorted((SOURCE / folder).rglob("*.py"))]
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in files}
    constants = _constants(list(trees.values()))
    functions = {
        node.name: node for tree in trees.values() for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
    }
    reasons: dict[str, str] = {}
    for path, tree in trees.items():
        where = path.relative_to(SOURCE.parent)
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "fr" and (text := _text(node.value, constants)):
                reasons[f"{where}:{node.value.lineno} (a file kind)"] = text
            if not isinstance(node, ast.Call) or _called(node) not in RECORDERS:
                continue
            for argument in node.args:
                if (text := _text(argument, constants)) is not None:
                    reasons[f"{where}:{argument.lineno}"] = text
                elif isinstance(argument, ast.Call) and (helper := functions.get(_called(argument))):
                    for inner in ast.walk(helper):
                        returned = inner.value if isinstance(inner, ast.Return) else None
                        if returned is not None and (text := _text(returned, constants)) is not None:
                            reasons[f"{where}:{inner.lineno} ({helper.name})"] = text
    return reasons


def test_every_failure_reason_an_upload_can_record_is_french() -> None:
    reasons = failure_reasons()
    assert len(reasons) > 20, reasons  # the scan finds the messages (it broke if it finds none)
    assert any("Le fichier est vide" in text for text in reasons.values()), reasons
    english = [
        f"{where}: {shown(text, words)}" for where, text in sorted(reasons.items()) if (words := english_in(text))
    ]
    assert not english, f"English in {len(english)} failure reasons of {len(reasons)}:\n" + "\n".join(english)


def test_the_scan_finds_english_wording() -> None:
    page = read(
        "<html><head><title>Page not found</title><script>var the = 'and';</script></head><body>"
        "<p>Le fichier <code>the.mp4</code> est prêt sur https://example.org/the/file.</p>"
        "<p translate='no'>the-file.mp4</p><img alt='Poster of the session' src='/x.png'>"
        "<button aria-label='Close'>×</button><p>Abonnez-vous dans Apple Podcasts ou Pocket Casts.</p>"
        "<p>…MP4, M4A, MOV, MP3 or WebM files..</p></body></html>"
    )
    words = [word for part in page.parts for word in english_in(part)]
    assert words == ["not", "found", "of", "the", "Close", "or", "files"], page.parts
