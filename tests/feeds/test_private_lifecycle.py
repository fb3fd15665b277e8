"""A private feed stays private: its media are kept by no shared cache, it has its own ``podcast:guid`` and
``podcast:block``, and a revoked or replaced token, or one of a deleted account, answers 410 Gone (apps stop
asking) where an unknown one answers 404 — the feed and its media alike."""

from __future__ import annotations

import asyncio
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import podcastparser
import pytest
from litestar.testing import TestClient

from learning.admin.commands import create_admin
from learning.app import create_app
from learning.config import Settings
from learning.feeds.services import hash_token
from tests.helpers.accounts import PASSWORD, Account, login, register
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, sql, truncate_all

NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}
MODULE = "dix-ans-de-recherche"
PUBLIC_FEED = f"/feeds/modules/{MODULE}.xml"


@pytest.fixture(scope="module")
def synced(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    truncate_all(database_url)
    settings = make_settings(database_url, tmp_path_factory.mktemp("private") / "var")
    sync(settings)
    return settings


@pytest.fixture
def client(synced: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(synced)) as test_client:
        yield test_client


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode()


def _enrolled(client: TestClient[Any]) -> Account:
    learner = register(client)
    response = client.post("/api/v1/me/enrollments", json={"module": MODULE}, headers=learner.headers)
    assert response.status_code in (200, 201), response.text
    return learner


def _issue(client: TestClient[Any], learner: Account) -> tuple[str, str]:
    issued = client.post("/api/v1/me/feed-token", headers=learner.headers)
    assert issued.status_code == 201, issued.text
    (feed_url,) = issued.json()["feeds"]
    return issued.json()["token"], _path(feed_url)


def _guid(feed: httpx.Response) -> str:
    guid = ET.fromstring(feed.content).findtext("channel/podcast:guid", namespaces=NS)
    assert guid is not None
    return guid


def _assert_gone(response: httpx.Response, because: str = "révoqué") -> None:
    assert response.status_code == 410, response.text[:200]
    assert response.headers["content-type"] == "application/problem+json"
    if response.request.method == "HEAD":
        return
    problem = response.json()
    assert problem["status"] == 410
    assert because in problem["detail"]  # French, as the learners read it


def test_a_private_feed_has_its_own_guid_and_is_blocked_from_directories(client: TestClient[Any]) -> None:
    learner = _enrolled(client)
    token, feed_path = _issue(client, learner)
    feed = client.get(feed_path)
    assert feed.status_code == 200
    channel = ET.fromstring(feed.content).find("channel")
    assert channel is not None
    assert channel.findtext("podcast:block", namespaces=NS) == "yes"
    assert channel.findtext("itunes:block", namespaces=NS) == "Yes"
    public = client.get(PUBLIC_FEED)
    assert ET.fromstring(public.content).find("channel/podcast:block", NS) is None  # the public feed is listed
    private_guid, public_guid = _guid(feed), _guid(public)
    assert uuid.UUID(private_guid).version == 5
    assert private_guid != public_guid
    # Stable for that subscriber: a new token gives the same feed identity; another learner gets another one.
    _, rotated_path = _issue(client, learner)
    assert _guid(client.get(rotated_path)) == private_guid
    _, other_path = _issue(client, _enrolled(client))
    assert _guid(client.get(other_path)) not in {private_guid, public_guid}
    assert token not in client.get(PUBLIC_FEED).text


def test_private_media_are_kept_by_no_shared_cache(client: TestClient[Any]) -> None:
    _, feed_path = _issue(client, _enrolled(client))
    feed = client.get(feed_path)
    parsed = podcastparser.parse(feed_path, io.BytesIO(feed.content))
    enclosure = _path(parsed["episodes"][0]["enclosures"][0]["url"])
    for response in (
        client.get(enclosure, headers={"Range": "bytes=0-99"}),
        client.head(enclosure),
        client.get(enclosure, headers={"If-None-Match": client.head(enclosure).headers["etag"]}),
    ):
        assert response.status_code in {200, 206, 304}
        cache_control = response.headers["cache-control"]
        assert cache_control.startswith("private"), cache_control
        assert "public" not in cache_control
        assert "immutable" not in cache_control
        assert "x-answered-by" not in response.headers  # the edge never keeps nor answers private media
    # The same file at its public URL stays immutable and shared.
    public_path = "/media/" + enclosure.split("/media/", 1)[1]
    assert "immutable" in client.head(public_path).headers["cache-control"]


def test_private_feed_lifecycle_rotate_and_revoke_answer_gone(client: TestClient[Any]) -> None:
    learner = _enrolled(client)
    token, feed_path = _issue(client, learner)
    feed = client.get(feed_path)
    assert feed.status_code == 200
    parsed = podcastparser.parse(feed_path, io.BytesIO(feed.content))
    media_path = _path(parsed["episodes"][0]["enclosures"][0]["url"])
    assert client.get(media_path, headers={"Range": "bytes=0-9"}).status_code == 206

    rotated, rotated_path = _issue(client, learner)
    assert rotated != token
    _assert_gone(client.get(feed_path))  # the replaced token: apps stop asking
    _assert_gone(client.head(feed_path))
    _assert_gone(client.get(media_path, headers={"Range": "bytes=0-9"}))
    assert client.get(rotated_path).status_code == 200
    rotated_media = media_path.replace(token, rotated)
    assert client.get(rotated_media, headers={"Range": "bytes=0-9"}).status_code == 206

    assert client.delete("/api/v1/me/feed-token", headers=learner.headers).status_code == 204
    _assert_gone(client.get(rotated_path))
    _assert_gone(client.get(rotated_media))

    # A token nobody was ever given is still unknown: 404, not 410 (nothing to tell apart by timing either).
    unknown = "x" * len(token)
    assert client.get(feed_path.replace(token, unknown)).status_code == 404
    assert client.get(media_path.replace(token, unknown)).status_code == 404


def _delete_by_admin(client: TestClient[Any], synced: Settings, user_id: str) -> None:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.org"
    asyncio.run(create_admin(synced, email=email, password=PASSWORD))
    admin = login(client, email)
    assert client.delete(f"/api/v1/admin/users/{user_id}", headers=admin.headers).status_code == 204


def _delete_in_sql(_client: TestClient[Any], synced: Settings, user_id: str) -> None:
    # Any other way an account goes (an operator's statement, a future route): the database keeps the rule.
    sql(synced.require_database_url(), "DELETE FROM user_account WHERE id = $1", uuid.UUID(user_id))


@pytest.mark.parametrize("delete_account", [_delete_by_admin, _delete_in_sql], ids=["admin", "sql"])
def test_private_feed_of_a_deleted_account_answers_gone_and_names_nobody(
    client: TestClient[Any], synced: Settings, delete_account: Any
) -> None:
    learner = _enrolled(client)
    user_id = client.get("/api/v1/me", headers=learner.headers).json()["id"]
    replaced, replaced_path = _issue(client, learner)
    token, feed_path = _issue(client, learner)
    feed = client.get(feed_path)
    assert feed.status_code == 200  # subscribed
    parsed = podcastparser.parse(feed_path, io.BytesIO(feed.content))
    media_path = _path(parsed["episodes"][0]["enclosures"][0]["url"])
    assert client.get(media_path, headers={"Range": "bytes=0-9"}).status_code == 206
    database = synced.require_database_url()
    before = {row["token_hash"]: row["revoked_at"] for row in sql(database, "SELECT * FROM private_feed_token")}

    delete_account(client, synced, user_id)

    # 410, not 404: podcast apps retry a 404 forever; the detail says why, in French.
    for response in (
        client.get(feed_path),
        client.head(feed_path),
        client.get(feed_path.removesuffix(".xml") + ".atom"),
        client.get(media_path, headers={"Range": "bytes=0-9"}),
        client.head(media_path),
        client.get(replaced_path),  # the token replaced before the account went: still gone
    ):
        _assert_gone(response, because="supprimé")
    assert client.get("/api/v1/me", headers=learner.headers).status_code == 401  # bearer tokens: 401, as ever

    # Kept: each token's hash and when it stopped working; nothing that names the learner or tells of them.
    rows = sql(database, "SELECT * FROM private_feed_token WHERE token_hash = ANY($1)",
               [hash_token(token), hash_token(replaced)])  # fmt: skip
    assert len(rows) == 2
    for row in rows:
        assert row["user_id"] is None
        assert row["revoked_at"] is not None
        assert row["hint"] == ""
        assert row["last_used_at"] is None
        assert row["created_at"] == row["updated_at"] == row["revoked_at"]
    revoked = {row["token_hash"]: row["revoked_at"] for row in rows}
    assert revoked[hash_token(replaced)] == before[hash_token(replaced)]  # its revocation's instant is kept
    naming = "SELECT count(*) FROM private_feed_token WHERE user_id = $1 OR hint = $2 OR hint = $3"
    assert sql(database, naming, uuid.UUID(user_id), token[:6], replaced[:6])[0][0] == 0

    # A token nobody was ever given is still unknown: 404.
    unknown = "y" * len(token)
    assert client.get(feed_path.replace(token, unknown)).status_code == 404
    assert client.get(media_path.replace(token, unknown)).status_code == 404
