"""Request and response bodies of the attestations API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from learning.attestations.credentials import page_url
from learning.attestations.services import NAME_MAX, REASON_MAX
from learning.db import models as m
from learning.lib.openapi import STORABLE_TEXT

SLUG = msgspec.Meta(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class AttestationCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``module``: the slug of a completed module; or ``course``: true, for the whole course (every published
    module completed). ``name``: the name printed on it, as you want it written."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=NAME_MAX, extra_json_schema=STORABLE_TEXT)]
    module: Annotated[str, SLUG] | None = None
    course: bool = False


class Revocation(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=REASON_MAX, extra_json_schema=STORABLE_TEXT)]


class AttestedModule(msgspec.Struct):
    slug: str
    title: str
    enrolled_at: datetime
    completed_at: datetime
    measured_seconds: float  # watched and listened time measured on its video and audio lessons


class AttestationRead(msgspec.Struct):
    number: str
    kind: str  # "module" or "course"
    name: str
    title: str
    modules: list[AttestedModule]
    enrolled_at: datetime
    completed_at: datetime
    measured_seconds: float
    issued_at: datetime
    revoked_at: datetime | None
    page: str  # the public page that says whether it holds
    pdf: str  # the PDF (for its learner)
    credential: str  # the Open Badges 3.0 credential (VC-JWT)


class AdminAttestationRead(AttestationRead):
    user_id: str
    revocation_reason: str | None


def attestation_read(attestation: m.Attestation, base_url: str) -> AttestationRead:
    page = page_url(base_url, attestation.number)
    return AttestationRead(
        number=attestation.number, kind="course" if attestation.subject == m.COURSE_SUBJECT else "module",
        name=attestation.learner_name, title=attestation.title,
        modules=[
            AttestedModule(
                slug=str(module["slug"]), title=str(module["title"]),
                enrolled_at=datetime.fromisoformat(module["enrolled_at"]),
                completed_at=datetime.fromisoformat(module["completed_at"]),
                measured_seconds=float(module["measured_seconds"]),
            )
            for module in attestation.modules
        ],
        enrolled_at=attestation.enrolled_at, completed_at=attestation.completed_at,
        measured_seconds=attestation.measured_seconds, issued_at=attestation.issued_at,
        revoked_at=attestation.revoked_at, page=page,
        pdf=f"{base_url.rstrip('/')}/api/v1/me/attestations/{attestation.number}.pdf",
        credential=f"{page}/credential.jwt",
    )  # fmt: skip


def admin_attestation_read(attestation: m.Attestation, base_url: str) -> AdminAttestationRead:
    return AdminAttestationRead(
        **msgspec.structs.asdict(attestation_read(attestation, base_url)),
        user_id=str(attestation.user_id), revocation_reason=attestation.revocation_reason,
    )  # fmt: skip
