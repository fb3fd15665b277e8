"""HTTP endpoints: a learner's attestations (/api/v1/me/attestations), the admin's list and revocation, and what
anyone may fetch to check one: its credential and the instance's public key (/.well-known/jwks.json). The
public page of an attestation is a page (``learning.web.attestations``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from learning.accounts.auth import CurrentUser, requires_admin
from learning.attestations.deps import provide_attestation_service, provide_instance_key
from learning.attestations.keys import InstanceKey
from learning.attestations.schemas import (
    AdminAttestationRead,
    AttestationCreate,
    AttestationRead,
    Revocation,
    admin_attestation_read,
    attestation_read,
)
from learning.attestations.services import AttestationNotFound, AttestationService, InvalidSubject
from learning.lib.guards import requires_json_body
from learning.lib.pagination import Page, PageRequest, provide_page_request

PDF = "application/pdf"
JWT = "application/jwt"
_SERVICE = {"attestations": Provide(provide_attestation_service, sync_to_thread=False)}


class AttestationController(Controller):
    path = "/api/v1/me/attestations"
    tags = ["attestations"]
    guards = [requires_json_body]
    dependencies = _SERVICE

    @post(
        "/", operation_id="CreateAttestation", status_code=HTTP_201_CREATED, opt={"problems": [404, 409, 422]},
        responses={
            HTTP_200_OK: ResponseSpec(AttestationRead, description="Already held: the attestation you have",
                                      generate_examples=False),
        },
    )  # fmt: skip
    async def create(
        self,
        data: JSONBody[AttestationCreate],
        request: Request[CurrentUser, Any, Any],
        attestations: NamedDependency[AttestationService],
        state: State,
    ) -> Response[AttestationRead]:
        """Get the attestation of a module you completed (``module``) or of the whole course (``course``: true,
        every published module completed), with the name printed on it: 201 with its number and links; 200 with
        the one you already have (the name stays as first given); 409 before completion."""
        if (data.module is None) == (not data.course):
            raise InvalidSubject("Give either `module` (a module's slug) or `course`: true.")
        issued = await attestations.issue(request.user.id, module_slug=data.module, name=data.name)
        return Response(
            attestation_read(issued.attestation, state.settings.base_url),
            status_code=HTTP_201_CREATED if issued.created else HTTP_200_OK,
        )

    @get("/", operation_id="ListMyAttestations")
    async def mine(
        self,
        request: Request[CurrentUser, Any, Any],
        attestations: NamedDependency[AttestationService],
        state: State,
    ) -> list[AttestationRead]:
        """Your attestations, the latest first (a revoked one says when)."""
        return [attestation_read(found, state.settings.base_url) for found in await attestations.mine(request.user.id)]

    @get("/{filename:str}", operation_id="DownloadMyAttestation", media_type=PDF, opt={"problems": [404, 410]})
    async def pdf(
        self,
        filename: FromPath[str],
        request: Request[CurrentUser, Any, Any],
        attestations: NamedDependency[AttestationService],
    ) -> Response[bytes]:
        """The PDF of one of your attestations (``{number}.pdf``); 410 once revoked."""
        number, dot, extension = filename.rpartition(".")
        if not dot or extension != "pdf":
            raise AttestationNotFound("Ask for {number}.pdf.")
        found, document = await attestations.pdf(request.user.id, number)
        name = f"attestation-{found.number}.pdf"
        return Response(
            document, media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
        )  # fmt: skip


class AdminAttestationController(Controller):
    path = "/api/v1/admin/attestations"
    tags = ["admin"]
    guards = [requires_admin, requires_json_body]
    dependencies = {**_SERVICE, "page": Provide(provide_page_request, sync_to_thread=False)}

    @get("/", operation_id="ListAttestations")
    async def every(
        self, attestations: NamedDependency[AttestationService], page: NamedDependency[PageRequest], state: State
    ) -> Page[AdminAttestationRead]:
        """Every attestation issued, the latest first."""
        items, total = await attestations.every(limit=page.limit, offset=page.offset)
        base = state.settings.base_url
        return Page(
            items=[admin_attestation_read(item, base) for item in items], total=total, limit=page.limit,
            offset=page.offset,
        )  # fmt: skip

    @post("/{number:str}/revocation", operation_id="RevokeAttestation", status_code=HTTP_200_OK,
          opt={"problems": [404, 422]})  # fmt: skip
    async def revoke(
        self,
        number: FromPath[str],
        data: JSONBody[Revocation],
        attestations: NamedDependency[AttestationService],
        state: State,
    ) -> AdminAttestationRead:
        """Revoke an attestation, with the reason: its public page and its credential say so from now on (again:
        no change)."""
        return admin_attestation_read(await attestations.revoke(number, data.reason), state.settings.base_url)


class CredentialController(Controller):
    """What anyone checking an attestation fetches: no sign-in."""

    tags = ["attestations"]
    dependencies = _SERVICE
    opt = {"exclude_from_auth": True}

    @get("/.well-known/jwks.json", operation_id="InstanceKeys", media_type="application/jwk-set+json",
         dependencies={"key": Provide(provide_instance_key, sync_to_thread=False)})  # fmt: skip
    async def jwks(self, key: NamedDependency[InstanceKey]) -> Response[dict[str, Any]]:
        """The public key (JWK set) that verifies the attestations' credentials."""
        return Response(key.jwks(), headers={"Cache-Control": "public, max-age=3600"})

    @get("/attestations/{number:str}/credential.jwt", operation_id="AttestationCredential", media_type=JWT,
         opt={"problems": [404, 410]})  # fmt: skip
    async def credential(
        self, number: FromPath[str], attestations: NamedDependency[AttestationService]
    ) -> Response[str]:
        """The attestation's Open Badges 3.0 credential (``OpenBadgeCredential``), a VC-JWT signed with the key of
        ``/.well-known/jwks.json``; 410 once revoked (the public page says when)."""
        found, token = await attestations.credential(number)
        name = f"attestation-{found.number}.jwt"
        return Response(token, media_type=JWT, headers={"Content-Disposition": f'attachment; filename="{name}"'})
