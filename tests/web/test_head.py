"""HEAD on every page: the GET's status and headers, no body (link checkers, `curl -I`, feed readers)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.catalog import SERIES
from tests.web.conftest import MODULE, TEXT_LESSON, VIDEO_LESSON, make_admin, sign_in, sign_up

SESSION = "2019-01-lancement-du-cycle"
PUBLIC_PAGES = [
    "/",
    f"/modules/{MODULE}",
    f"/modules/{MODULE}/lecons/{VIDEO_LESSON}",
    f"/modules/{MODULE}/lecons/{TEXT_LESSON}",
    f"/modules/{MODULE}/lecons/{VIDEO_LESSON}/chapitres.vtt",
    f"/webinaires/{SERIES}",
    f"/webinaires/{SERIES}/{SESSION}",
    f"/webinaires/{SERIES}/{SESSION}/chapitres.vtt",
    "/recherche?q=territoire",
    "/connexion",
    "/inscription",
]
# Headers that differ from one answer to the next whatever the method (request id, clock, per-answer nonce).
PER_ANSWER = {"date", "x-request-id", "content-security-policy", "set-cookie"}


def _same_as_get(client: TestClient[Any], path: str) -> None:
    got = client.get(path, follow_redirects=False)
    head = client.head(path, follow_redirects=False)
    assert got.status_code == 200, (path, got.status_code)
    assert head.status_code == 200, (path, head.status_code)
    assert head.content == b""
    assert {k: v for k, v in head.headers.items() if k not in PER_ANSWER} == {
        k: v for k, v in got.headers.items() if k not in PER_ANSWER
    }, path
    assert int(head.headers["content-length"]) == len(got.content)


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_head_answers_a_public_page_like_get_without_a_body(web: TestClient[Any], path: str) -> None:
    _same_as_get(web, path)


def test_head_answers_the_account_page_of_a_signed_in_learner(web: TestClient[Any]) -> None:
    sign_up(web)
    _same_as_get(web, "/compte")


@pytest.mark.parametrize("path", ["/admin/", "/admin/envoi"])
def test_head_answers_the_admin_pages_for_an_admin(web: TestClient[Any], web_settings: Settings, path: str) -> None:
    assert sign_in(web, make_admin(web_settings)).status_code == 303
    _same_as_get(web, path)


@pytest.mark.parametrize("path", ["/compte", "/admin/", "/admin/envoi"])
def test_head_sends_a_visitor_to_sign_in_like_get(web: TestClient[Any], path: str) -> None:
    got = web.get(path, follow_redirects=False)
    head = web.head(path, follow_redirects=False)
    assert got.status_code == head.status_code == 303
    assert head.headers["location"] == got.headers["location"] == f"/connexion?suite={path.rstrip('/')}"
