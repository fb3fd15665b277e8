"""The attestations' pages: the public page of an attestation (genuine, revoked, unknown) and « Mes attestations »,
where a learner asks for one with a form that works without JavaScript and downloads its PDF."""

from __future__ import annotations

import io
import re
from typing import Any

import pypdf
from litestar.testing import TestClient

from learning.config import Settings
from tests.attestations.conftest import MODULE, complete, enroll, issued
from tests.helpers.accounts import Account
from tests.web.conftest import csrf_token, sign_in

NAME = "Jean-Baptiste Ndiaye"
HTML = "text/html"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_public_page_says_a_genuine_attestation_is_genuine(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    number = issued(client, learner, settings, NAME)
    page = client.get(f"/attestations/{number}", headers={"Accept": HTML})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith(HTML)
    text = _text(page.text)
    assert "Attestation authentique" in text
    assert NAME in text
    assert number in text
    assert "révoquée le" not in text
    # A number typed by hand (lower case, no hyphens) finds the same page.
    assert NAME in client.get(f"/attestations/{number.replace('-', '').lower()}").text


def test_the_public_page_says_a_revoked_attestation_is_revoked(
    client: TestClient[Any], learner: Account, admin: Account, settings: Settings
) -> None:
    number = issued(client, learner, settings, NAME)
    revoked = client.post(
        f"/api/v1/admin/attestations/{number}/revocation", json={"reason": "Erreur de nom"}, headers=admin.headers
    )
    assert revoked.status_code == 200, revoked.text
    text = _text(client.get(f"/attestations/{number}").text)
    assert "Attestation révoquée" in text
    assert "révoquée le" in text.lower()
    assert "Attestation authentique" not in text
    assert "credential.jwt" not in text


def test_the_public_page_of_an_unknown_number_is_the_french_404(client: TestClient[Any]) -> None:
    for number in ("0000-0000-0000-0000", "pas-un-numero"):
        page = client.get(f"/attestations/{number}", headers={"Accept": HTML})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith(HTML)
        assert "Page introuvable" in page.text


def test_a_learner_obtains_an_attestation_with_the_form_and_downloads_it(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    assert sign_in(client, learner.email).status_code == 303
    enroll(client, learner)
    before = client.get("/compte/attestations")
    assert before.status_code == 200
    assert "Aucune attestation à obtenir" in before.text
    assert 'href="/compte/attestations"' not in client.get(f"/modules/{MODULE}").text
    complete(client, learner, settings)
    assert 'href="/compte/attestations">Obtenir mon attestation' in client.get(f"/modules/{MODULE}").text
    offered = client.get("/compte/attestations")
    assert f'name="module" value="{MODULE}"' in offered.text
    form = {"module": MODULE, "name": NAME, "_csrf_token": csrf_token(client, "/compte/attestations")}
    without_token = client.post("/compte/attestations", data={"module": MODULE, "name": NAME})
    assert without_token.status_code == 403
    done = client.post("/compte/attestations", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/compte/attestations?fait=attestation"
    listed = client.get("/compte/attestations").text
    number = re.search(r'href="/compte/attestations/([0-9A-Z-]{19})\.pdf"', listed)
    assert number is not None, listed
    assert f'name="module" value="{MODULE}"' not in listed  # held: no longer offered
    pdf = client.get(f"/compte/attestations/{number.group(1)}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert NAME in text
    assert number.group(1) in text
    assert '<a href="/compte/attestations">' in client.get("/compte").text


def test_the_form_says_what_is_wrong_with_the_name(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    assert sign_in(client, learner.email).status_code == 303
    complete(client, learner, settings)
    form = {"module": MODULE, "name": "  ", "_csrf_token": csrf_token(client, "/compte/attestations")}
    refused = client.post("/compte/attestations", data=form)
    assert refused.status_code == 422
    assert "Indiquez le nom à inscrire" in refused.text
    assert client.get("/api/v1/me/attestations", headers=learner.headers).json() == []


def test_another_learner_cannot_download_the_pdf_from_the_pages(
    client: TestClient[Any], learner: Account, other_learner: Account, settings: Settings
) -> None:
    number = issued(client, learner, settings, NAME)
    assert sign_in(client, other_learner.email).status_code == 303
    page = client.get(f"/compte/attestations/{number}.pdf", headers={"Accept": HTML})
    assert page.status_code == 404
    assert "Page introuvable" in page.text
