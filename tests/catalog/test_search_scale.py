"""Search at a grown catalog: one statement ranks every match once, counts them and highlights only the page;
the count shown is capped.

The shipped content plus 300 lessons recombined from its own paragraphs (``bench.growth_lessons``), so that a common
word matches hundreds of items; the app counts at most ``CAP`` matches.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from bench.growth_lessons import add_lessons, remove_lessons
from litestar.testing import TestClient

from learning.app import create_app
from learning.catalog.repositories import CatalogRepository
from tests.helpers.catalog import search, sync
from tests.helpers.database import make_settings, plan_of, sql, statements_sent, truncate_all

GROWTH = 300
CAP = 100
COMMON = "territoire"  # in most lessons, so in most of the grown ones
RARE = "caravane"  # in a few paragraphs only: more matches than the page shows (30), fewer than CAP


@pytest.fixture(scope="module")
def grown(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    truncate_all(database_url)
    sync(make_settings(database_url, tmp_path_factory.mktemp("grown") / "var"))
    assert asyncio.run(add_lessons(database_url, GROWTH)) == GROWTH
    yield database_url
    asyncio.run(remove_lessons(database_url))


@pytest.fixture(scope="module")
def client(grown: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    settings = make_settings(grown, tmp_path_factory.mktemp("search-scale") / "var", search_count_cap=CAP)
    with TestClient(app=create_app(settings)) as test_client:
        yield test_client


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("\u00a0", " ").replace("\u202f", " ").split())


# --- the plan --------------------------------------------------------------------------------------


async def _page_statement_plan(url: str, text: str, *, limit: int) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, VERBOSE) of the statement that highlights a page, as the repository sends it."""
    sent = await statements_sent(url, lambda session, _: CatalogRepository(session).search(text, limit=limit, offset=0))
    [(statement, parameters)] = [(s, p) for s, p in sent if "ts_headline" in s]
    return await plan_of(url, statement, parameters, analyze=True)


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def test_search_work_follows_the_page_when_hundreds_match(grown: str) -> None:
    limit = 10
    [row] = sql(
        grown,
        "SELECT count(*) AS n FROM lesson WHERE search_vector @@ websearch_to_tsquery('public.fr_unaccent', $1)",
        COMMON,
    )
    assert row["n"] > 20 * limit  # the premise: the matches far outnumber the page
    plan = asyncio.run(_page_statement_plan(grown, COMMON, limit=limit))
    nodes = list(_nodes(plan))
    # No text is computed from a lesson's or a session's body, nor highlighted, beyond the page (a bare column
    # in a scan's output is the row as stored, not read: only expressions over it cost)...
    texts = [node for node in nodes if any(_reads_text(out) for out in node.get("Output", []))]
    assert texts  # the page's snippets
    assert all(node["Actual Rows"] * node["Actual Loops"] <= limit for node in texts)
    # ...and every match is ranked once: one scan of the lessons' index, whatever the page and the count need.
    lesson_scans = [node for node in nodes if node.get("Relation Name") == "lesson"]
    assert len(lesson_scans) == 1
    assert lesson_scans[0]["Actual Loops"] == 1


def test_a_search_asks_the_database_once(grown: str) -> None:
    """The page, its snippets and the number of matches come back together: one round trip per search."""
    sent = asyncio.run(
        statements_sent(grown, lambda session, _: CatalogRepository(session).search(COMMON, limit=20, offset=0))
    )
    assert len(sent) == 1, [statement for statement, _ in sent]


def _reads_text(output: str) -> bool:
    return ("body_md" in output or "ts_headline" in output) and not re.fullmatch(r"[\w.\"]+", output)


# --- the count -------------------------------------------------------------------------------------


def test_total_is_exact_below_the_cap(client: TestClient[Any]) -> None:
    body = search(client, RARE, limit=100)
    assert 0 < body["total"] < CAP
    assert body["total_is_lower_bound"] is False
    assert body["total"] == len(body["items"])


def test_total_is_a_flagged_lower_bound_above_the_cap(client: TestClient[Any]) -> None:
    body = search(client, COMMON, limit=20)
    assert body["total"] == CAP
    assert body["total_is_lower_bound"] is True
    beyond = search(client, COMMON, limit=100, offset=CAP)["items"]
    assert beyond  # there are indeed more than CAP
    pages = body["items"] + search(client, COMMON, limit=100, offset=20)["items"]
    assert len({item["path"] for item in pages}) == len(pages)  # pages do not overlap
    ranks = [item["rank"] for item in pages]
    assert ranks == sorted(ranks, reverse=True)


def test_search_page_says_more_than_the_cap(client: TestClient[Any]) -> None:
    response = client.get("/recherche", params={"q": COMMON})
    assert response.status_code == 200
    assert f"Plus de {CAP} résultats pour « {COMMON} »" in _plain(response.text)


def test_search_page_gives_the_exact_count_below_the_cap(client: TestClient[Any]) -> None:
    total = search(client, RARE)["total"]
    assert 30 < total < CAP  # the page shows 30
    text = _plain(client.get("/recherche", params={"q": RARE}).text)
    assert f"{total} résultats pour « {RARE} », dont les 30 premiers ci-dessous." in text
    assert "Plus de" not in text


# --- the passages ----------------------------------------------------------------------------------


def test_snippet_follows_an_edited_body(grown: str, client: TestClient[Any]) -> None:
    # A test-only word, written into a synthetic lesson: its snippet must come from the new text.
    sql(
        grown,
        "UPDATE lesson SET body_md = body_md || E'\\n\\nUn paragraphe de test : xylophones.' WHERE slug = $1",
        "charge-00007",
    )
    [hit] = search(client, "xylophone")["items"]
    assert hit["slug"] == "charge-00007"
    assert "<mark>xylophones</mark>" in hit["snippet_html"]
    sql(grown, "DELETE FROM lesson WHERE slug = $1", "charge-00007")
    assert (
        sql(
            grown,
            "SELECT 1 FROM search_passage p WHERE NOT EXISTS (SELECT 1 FROM lesson l WHERE l.id = "
            "p.owner_id) AND NOT EXISTS (SELECT 1 FROM webinar_session s WHERE s.id = p.owner_id)",
        )
        == []
    )


def test_growth_lessons_are_made_of_the_shipped_paragraphs(grown: str) -> None:
    shipped = "\n\n".join(row["body_md"] for row in sql(grown, "SELECT body_md FROM lesson WHERE origin = 'content'"))
    rows = sql(grown, "SELECT title, body_md FROM lesson WHERE slug LIKE 'charge-%' ORDER BY slug LIMIT 20")
    assert rows
    for row in rows:
        assert row["title"].startswith("Leçon de charge n° ")
        for paragraph in re.split(r"\n\s*\n", row["body_md"]):
            assert paragraph.strip() in shipped
