"""The attestations API: eligibility from the one completion rule, the PDF read back by pypdf, a learner's own
attestations only, revocation by admins only, and every error as RFC 9457 problem+json."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pypdf
from litestar.testing import TestClient

from learning.config import Settings
from learning.lib.typography import french_text
from tests.attestations.conftest import MODULE, complete, enroll, published_modules
from tests.helpers.accounts import Account

NAME = "Élise Durand-Lefèvre"
PROBLEM = "application/problem+json"


def _create(client: TestClient[Any], account: Account, **body: Any) -> httpx.Response:
    return client.post("/api/v1/me/attestations", json={"name": NAME, **body}, headers=account.headers)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def _pdf_text(document: bytes) -> str:
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(document)).pages)
    return re.sub(r"\s+", " ", text)  # no-break spaces and line breaks as plain spaces


def _module_title(client: TestClient[Any], slug: str = MODULE) -> str:
    title: str = client.get(f"/api/v1/modules/{slug}").json()["title"]
    return title


def test_module_attestation_pdf_reads_back_with_the_name_module_and_number(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    played = complete(client, learner, settings)
    created = _create(client, learner, module=MODULE)
    assert created.status_code == 201, created.text
    body = created.json()
    number = body["number"]
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", number)
    assert body["kind"] == "module"
    assert body["name"] == NAME
    assert body["page"] == f"http://testserver.local/attestations/{number}"
    # The time is what the player reported on the media lessons, nothing for the text ones.
    assert abs(body["measured_seconds"] - played) < 1.0
    pdf = client.get(f"/api/v1/me/attestations/{number}.pdf", headers=learner.headers)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert NAME in text
    assert number in text
    assert re.sub(r"\s+", " ", french_text(_module_title(client))) in text
    assert "temps d’écoute et de visionnage mesuré" in text.lower()
    assert body["page"] in text


def test_asking_again_gives_the_attestation_already_held(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    complete(client, learner, settings)
    first = _create(client, learner, module=MODULE)
    again = client.post(
        "/api/v1/me/attestations", json={"name": "Un autre nom", "module": MODULE}, headers=learner.headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["number"] == first.json()["number"]
    assert again.json()["name"] == NAME
    assert [item["number"] for item in client.get("/api/v1/me/attestations", headers=learner.headers).json()] == [
        first.json()["number"]
    ]


def test_attestation_refused_before_the_module_is_completed(client: TestClient[Any], learner: Account) -> None:
    enroll(client, learner)
    _problem(_create(client, learner, module=MODULE), 409)
    _problem(_create(client, learner, module="module-inconnu"), 404)
    assert client.get("/api/v1/me/attestations", headers=learner.headers).json() == []


def test_course_attestation_needs_every_published_module(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    complete(client, learner, settings)
    refused = _problem(_create(client, learner, course=True), 409)
    assert _module_title(client, MODULE) not in refused["detail"]  # it names what is left, not what is done
    modules = published_modules(client)
    for slug in modules:
        if slug != MODULE:
            complete(client, learner, settings, slug)
    created = _create(client, learner, course=True)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == "course"
    assert sorted(module["slug"] for module in body["modules"]) == sorted(modules)
    text = _pdf_text(client.get(f"/api/v1/me/attestations/{body['number']}.pdf", headers=learner.headers).content)
    for slug in modules:
        assert re.sub(r"\s+", " ", french_text(_module_title(client, slug))) in text


def test_the_name_is_checked(client: TestClient[Any], learner: Account, settings: Settings) -> None:
    complete(client, learner, settings)
    _problem(client.post("/api/v1/me/attestations", json={"name": "x" * 121, "module": MODULE},
                         headers=learner.headers), 422)  # fmt: skip
    _problem(_create(client, learner, module=MODULE, name="   "), 422)
    _problem(_create(client, learner, module=MODULE, name="山田太郎"), 422)  # no glyph for it in the PDF's fonts
    _problem(_create(client, learner, module=MODULE, course=True), 422)  # one subject at a time
    assert client.get("/api/v1/me/attestations", headers=learner.headers).json() == []


def test_a_learner_cannot_read_another_learners_attestation(
    client: TestClient[Any], learner: Account, other_learner: Account, settings: Settings
) -> None:
    complete(client, learner, settings)
    number = _create(client, learner, module=MODULE).json()["number"]
    _problem(client.get(f"/api/v1/me/attestations/{number}.pdf", headers=other_learner.headers), 404)
    assert client.get("/api/v1/me/attestations", headers=other_learner.headers).json() == []
    _problem(client.get(f"/api/v1/me/attestations/{number}.pdf"), 401)


def test_only_admins_revoke_and_a_revoked_attestation_says_so(
    client: TestClient[Any], learner: Account, admin: Account, settings: Settings
) -> None:
    complete(client, learner, settings)
    number = _create(client, learner, module=MODULE).json()["number"]
    revoke = f"/api/v1/admin/attestations/{number}/revocation"
    _problem(client.post(revoke, json={"reason": "Nom usurpé"}, headers=learner.headers), 403)
    _problem(client.get("/api/v1/admin/attestations", headers=learner.headers), 403)
    assert client.get(f"/api/v1/me/attestations/{number}.pdf", headers=learner.headers).status_code == 200

    _problem(client.post("/api/v1/admin/attestations/0000-0000-0000-0000/revocation", json={"reason": "x"},
                         headers=admin.headers), 404)  # fmt: skip
    revoked = client.post(revoke, json={"reason": "Nom usurpé"}, headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"]
    assert revoked.json()["revocation_reason"] == "Nom usurpé"
    listed = client.get("/api/v1/admin/attestations", headers=admin.headers).json()
    assert listed["total"] == 1
    assert listed["items"][0]["revoked_at"] == revoked.json()["revoked_at"]
    # Again: no change.
    again = client.post(revoke, json={"reason": "Autre raison"}, headers=admin.headers)
    assert again.json()["revocation_reason"] == "Nom usurpé"

    _problem(client.get(f"/api/v1/me/attestations/{number}.pdf", headers=learner.headers), 410)
    _problem(client.get(f"/attestations/{number}/credential.jwt"), 410)
    mine = client.get("/api/v1/me/attestations", headers=learner.headers).json()
    assert mine[0]["revoked_at"] == revoked.json()["revoked_at"]
    # Revoked, a new one may be asked for (with a corrected name, say).
    renewed = client.post(
        "/api/v1/me/attestations", json={"name": "Élise Durand", "module": MODULE}, headers=learner.headers
    )
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["number"] != number
