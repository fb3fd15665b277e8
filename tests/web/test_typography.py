"""French typography on everything the shipped content shows (issue 21): every page of the catalog and every feed,
read as a browser and a feed reader would (lxml), with no breakable space before « : ; ? ! » or inside « », and
no straight apostrophe, in any text node (code, scripts, styles and attributes aside)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html
import pytest
from litestar.testing import TestClient

from learning.app import create_app
from tests.helpers.catalog import SERIES

SKIPPED = {"code", "pre", "kbd", "samp", "script", "style", "textarea"}
HTML_IN_FEEDS = {"description", "{http://purl.org/rss/1.0/modules/content/}encoded"}
ATOM = "{http://www.w3.org/2005/Atom}"
# U+0020 or a line break where French typography wants a no-break space; a straight apostrophe.
FAULTS = re.compile(r"[ \t\r\n][:;?!]|«[ \t\r\n]|[ \t\r\n]»|'")


def _stream(element: Any) -> Iterator[str]:
    """The text of ``element`` in reading order; a skipped element stands as one word."""
    if not isinstance(element.tag, str):  # comments, processing instructions
        yield element.tail or ""
        return
    if element.tag in SKIPPED:
        yield "code"
    else:
        yield element.text or ""
        for child in element:
            yield from _stream(child)
    yield element.tail or ""


def _faults(text: str) -> list[str]:
    return [text[max(0, m.start() - 30) : m.end() + 30] for m in FAULTS.finditer(text)]


def _html_faults(document: str) -> list[str]:
    root = lxml.html.document_fromstring(document) if document.lstrip().startswith("<!") else None
    if root is None:
        root = lxml.html.fragment_fromstring(document, create_parent="div")
    return _faults("".join(_stream(root)))


def _feed_faults(xml: bytes) -> list[str]:
    faults = []
    for element in lxml.etree.fromstring(xml).iter():
        if not isinstance(element.tag, str) or not (element.text or "").strip():
            continue
        html = element.tag in HTML_IN_FEEDS or (element.tag == f"{ATOM}content" and element.get("type") == "html")
        faults += _html_faults(element.text) if html else _faults(element.text)
    return faults


def _catalog_pages(web: TestClient[Any]) -> list[str]:
    pages = ["/", "/recherche?q=alliance"]
    for module in web.get("/api/v1/modules", params={"limit": 100}).json()["items"]:
        pages.append(f"/modules/{module['slug']}")
        for lesson in web.get(f"/api/v1/modules/{module['slug']}").json()["lessons"]:
            pages.append(f"/modules/{module['slug']}/lecons/{lesson['slug']}")
    for series in web.get("/api/v1/webinars", params={"limit": 100}).json()["items"]:
        pages.append(f"/webinaires/{series['slug']}")
        found = web.get(f"/api/v1/webinars/{series['slug']}", params={"limit": 100}).json()
        pages += [f"/webinaires/{series['slug']}/{session['slug']}" for session in found["sessions"]["items"]]
    return pages


@pytest.fixture(scope="module")
def shown(web_settings: Any) -> dict[str, str | bytes]:
    """Every page of the catalog, the « S'abonner » pages the home page links to and every feed they give, by
    path."""
    with TestClient(app=create_app(web_settings)) as web:
        found: dict[str, str | bytes] = {}
        for path in _catalog_pages(web):
            response = web.get(path)
            assert response.status_code == 200, path
            found[path] = response.text
        home = lxml.html.document_fromstring(found["/"])
        feeds = set()
        for path in sorted({a.get("href") for a in home.iter("a") if (a.get("href") or "").startswith("/abonnement/")}):
            response = web.get(path)
            assert response.status_code == 200, path
            found[path] = response.text
            subscribe = lxml.html.document_fromstring(response.text)
            feeds |= {urlsplit(a.get("href")).path for a in subscribe.iter("a") if "/feeds/" in (a.get("href") or "")}
        for path in sorted(feeds):
            response = web.get(path)
            assert response.status_code == 200, path
            found[path] = response.content
        return found


def test_the_scan_covers_every_page_and_feed(shown: dict[str, str | bytes], web: TestClient[Any]) -> None:
    modules = web.get("/api/v1/modules", params={"limit": 100}).json()["items"]
    series = web.get("/api/v1/webinars", params={"limit": 100}).json()["items"]
    sessions = web.get(f"/api/v1/webinars/{SERIES}", params={"limit": 1}).json()["sessions"]["total"]
    # The shipped catalog, as the public sees it.
    assert len(modules) >= 4
    assert len(series) == 1
    assert sessions == 12
    assert len([path for path in shown if "/lecons/" in path]) == sum(module["lesson_count"] for module in modules)
    assert len([path for path in shown if path.startswith(f"/webinaires/{SERIES}/")]) == sessions
    feeds = {path for path in shown if path.startswith("/feeds/")}
    expected = [f"/feeds/modules/{module['slug']}" for module in modules] + [f"/feeds/webinars/{SERIES}"]
    assert feeds == {f"{feed}.{ext}" for feed in expected for ext in ("xml", "atom")}  # every module has its feed


def test_pages_have_french_typography(shown: dict[str, str | bytes]) -> None:
    faults = {path: found for path, body in shown.items() if isinstance(body, str) and (found := _html_faults(body))}
    assert not faults, {path: found[:3] for path, found in faults.items()}


def test_feeds_have_french_typography(shown: dict[str, str | bytes]) -> None:
    faults = {path: found for path, body in shown.items() if isinstance(body, bytes) and (found := _feed_faults(body))}
    assert not faults, {path: found[:3] for path, found in faults.items()}


def test_the_scan_finds_what_typography_would_fix() -> None:
    """The scan is not blind: it finds each fault in a page's text and in a feed's titles and HTML, and nothing in
    code or attributes."""
    page = "<p title='a : b'>Bonjour : « ça va » ? Oui ! l'a <code>a : b ; c'</code></p>"
    assert len(_html_faults(page)) == 6  # " :", "« ", " »", " ?", " !", "'"
    feed = (
        b'<rss version="2.0"><channel><title>Titre ; x</title>'
        b"<item><description><![CDATA[<p>Pourquoi ?</p><pre>a : b</pre>]]></description></item></channel></rss>"
    )
    assert len(_feed_faults(feed)) == 2
