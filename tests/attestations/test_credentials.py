"""The Open Badges 3.0 credential: verified by an independent JOSE library (PyJWT) with nothing but the public key
the site serves at /.well-known/jwks.json; a tampered one is refused; the key is made once and kept."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from joserfc.jwk import ECKey
from litestar.testing import TestClient
from pydantic import SecretStr

from learning.app import create_app
from learning.attestations.keys import KEY_FILE, CredentialKeyError, instance_key
from learning.config import Settings
from tests.attestations.conftest import MODULE, issued
from tests.helpers.accounts import Account
from tests.helpers.live import live_server

NAME = "Camille Martin"


def _verify(client: TestClient[Any], token: str) -> dict[str, Any]:
    """What a verifier does: the key named by the token's kid, from the JWKS fetched over HTTP."""
    served = client.get("/.well-known/jwks.json")
    assert served.status_code == 200
    jwks = jwt.PyJWKSet.from_dict(served.json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(key for key in jwks.keys if key.key_id == kid)
    claims: dict[str, Any] = jwt.decode(token, key=key.key, algorithms=["ES256"], options={"require": ["iss", "nbf"]})
    return claims


def test_credential_is_verified_with_the_served_public_key(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    number = issued(client, learner, settings, NAME)
    response = client.get(f"/attestations/{number}/credential.jwt")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jwt")
    claims = _verify(client, response.text)
    assert "OpenBadgeCredential" in claims["type"]
    assert claims["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert claims["id"] == claims["jti"] == f"http://testserver.local/attestations/{number}"
    assert claims["iss"] == claims["issuer"]["id"] == "http://testserver.local"
    subject = claims["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == NAME
    assert subject["achievement"]["name"] == client.get(f"/api/v1/modules/{MODULE}").json()["title"]
    assert claims["credentialStatus"]["id"] == claims["id"]


def test_credential_is_verified_by_pyjwt_with_the_jwks_fetched_over_http(
    client: TestClient[Any], learner: Account, settings: Settings
) -> None:
    """An outside verifier: a real socket, PyJWT's own JWKS client, and no other knowledge of the site."""
    number = issued(client, learner, settings, NAME)
    with live_server(create_app(settings)) as base:
        token = httpx.get(f"{base}/attestations/{number}/credential.jwt", timeout=30).text
        signing_key = jwt.PyJWKClient(f"{base}/.well-known/jwks.json", cache_keys=False).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key=signing_key.key, algorithms=["ES256"])
    assert claims["credentialSubject"]["identifier"][0]["identityHash"] == NAME
    assert claims["jti"] == f"http://testserver.local/attestations/{number}"


def test_a_tampered_credential_is_refused(client: TestClient[Any], learner: Account, settings: Settings) -> None:
    token = client.get(f"/attestations/{issued(client, learner, settings, NAME)}/credential.jwt").text
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["identifier"][0]["identityHash"] = "Quelqu’un d’autre"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(jwt.InvalidSignatureError):
        _verify(client, f"{header}.{forged}.{signature}")


def test_the_jwks_holds_only_the_public_key(client: TestClient[Any]) -> None:
    served = client.get("/.well-known/jwks.json").json()
    assert len(served["keys"]) == 1
    key = served["keys"][0]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert key["kid"]
    assert "d" not in key


def test_the_key_is_made_once_and_kept_private(settings: Settings) -> None:
    first = instance_key(settings)
    path = settings.data_dir / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert instance_key(settings).kid == first.kid
    assert json.loads(path.read_text())["d"] not in repr(first)


def test_a_configured_key_is_the_one_published(settings: Settings, tmp_path: Path) -> None:
    private = ECKey.generate_key("P-256", private=True)
    configured = settings.model_copy(
        update={"credential_key": SecretStr(json.dumps(private.as_dict(private=True))), "data_dir": tmp_path}
    )
    key = instance_key(configured)
    assert key.kid == private.thumbprint()
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(CredentialKeyError):
        instance_key(configured.model_copy(update={"credential_key": SecretStr('{"kty": "oct", "k": "AAAA"}')}))


def test_an_unknown_number_has_no_credential(client: TestClient[Any]) -> None:
    response = client.get("/attestations/0000-0000-0000-0000/credential.jwt")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
