"""The Open Badges 3.0 credential of an attestation: an ``OpenBadgeCredential`` (W3C Verifiable Credentials data
model 2.0), secured as a VC-JWT signed with the instance's key.

The JWT's payload is the credential itself, with the registered claims Open Badges 3.0 maps from it (``iss`` from
``issuer.id``, ``jti`` from ``id``, ``nbf`` from ``validFrom``); its header names the key (``kid``) published at
``/.well-known/jwks.json``. The issuer is this platform, named as its pages name it, and no one else: the course is
a reconstitution, and the credential says so. Whether an attestation still holds is said by its public page,
which ``credentialStatus`` points to."""

from __future__ import annotations

from typing import Any

from joserfc import jwt

from learning.attestations.keys import ALGORITHM, InstanceKey
from learning.attestations.text import PLATFORM, achievement_description, criteria, instant, notices
from learning.db import models as m

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def page_url(base_url: str, number: str) -> str:
    """The attestation's public page (its QR code, its credential's id and status)."""
    return f"{base_url.rstrip('/')}/attestations/{number}"


def credential(attestation: m.Attestation, base_url: str) -> dict[str, Any]:
    """The ``OpenBadgeCredential`` of an attestation, as JSON."""
    base = base_url.rstrip("/")
    page = page_url(base, attestation.number)
    if attestation.subject == m.COURSE_SUBJECT:
        achievement_id = f"{base}/modules"
    else:
        achievement_id = f"{base}/modules/{attestation.subject.removeprefix('module:')}"
    return {
        "@context": CONTEXTS,
        "id": page,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Attestation de suivi : {attestation.title}",
        "description": " ".join(notices(attestation)) or achievement_description(attestation),
        "issuer": {"id": base, "type": ["Profile"], "name": PLATFORM, "url": base},
        "validFrom": instant(attestation.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": attestation.learner_name},
            ],
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "name": attestation.title,
                "description": achievement_description(attestation),
                "criteria": {"narrative": criteria(attestation)},
            },
        },
        "credentialStatus": {"id": page, "type": "AttestationStatusPage"},
    }  # fmt: skip


def signed(attestation: m.Attestation, base_url: str, key: InstanceKey) -> str:
    """The credential as a compact VC-JWT signed with the instance's key."""
    document = credential(attestation, base_url)
    claims = {
        **document,
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "nbf": int(attestation.issued_at.timestamp()),
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key.key, algorithms=[ALGORITHM])
