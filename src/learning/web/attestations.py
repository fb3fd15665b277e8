"""The attestations' pages: the public page of an attestation (``/attestations/{number}``: genuine, revoked or
unknown), and the learner's « Mes attestations » (ask for one with the name to print, download the PDFs). The
forms work without JavaScript and carry the CSRF token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from learning.accounts.auth import CurrentUser
from learning.attestations.deps import provide_attestation_service
from learning.attestations.services import (
    NAME_MAX,
    AttestationNotFound,
    AttestationService,
    InvalidName,
    NotCompleted,
)
from learning.attestations.text import MEASURED, MEASURED_NOTE, is_course, measured_fr, notices
from learning.db import models as m
from learning.lib.dates import date_fr
from learning.web.deps import provide_viewer
from learning.web.security import requires_signed_in
from learning.web.templating import Flash, page, see_other
from learning.web.views import page_route

PDF = "application/pdf"


class AttestationForm(msgspec.Struct):
    module: str = ""  # a module's slug; empty with cours=1 for the course
    cours: str = ""
    name: str = ""


def measured(attestation: m.Attestation) -> str:
    """The measured time as the page says it (none is invented for text lessons)."""
    has_media = any(int(module.get("media_lessons", 0)) for module in attestation.modules)
    return measured_fr(attestation.measured_seconds, has_media)


def day(iso: str) -> str:
    """« 7 décembre 2026 » from an instant the attestation kept (ISO 8601)."""
    return date_fr(datetime.fromisoformat(iso))


class AttestationPages(Controller):
    dependencies = {
        "attestations": Provide(provide_attestation_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    @page_route("/attestations/{number:str}", name="web:attestation")
    async def public(
        self,
        number: FromPath[str],
        attestations: NamedDependency[AttestationService],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:
        """Whether an attestation is genuine, and what it says (or that it was revoked, and when); the French
        404 page for a number nobody was given."""
        found = await attestations.public(number)
        return page(
            "attestation.html", viewer, attestation=found, course=is_course(found), measured=measured(found),
            measured_label=MEASURED, measured_note=MEASURED_NOTE, notices=notices(found), day=day,
        )  # fmt: skip

    async def _mine(
        self,
        viewer: CurrentUser,
        attestations: AttestationService,
        *,
        flash: Flash | None = None,
        status_code: int = 200,
        name: str = "",
    ) -> Template:
        return page(
            "attestations.html", viewer, status_code=status_code, flash=flash, given_name=name, name_max=NAME_MAX,
            attestations=await attestations.mine(viewer.id), offers=await attestations.offers(viewer.id),
            measured=measured, day=day,
        )  # fmt: skip

    @page_route("/compte/attestations", name="web:attestations", guards=[requires_signed_in])
    async def mine(
        self,
        attestations: NamedDependency[AttestationService],
        viewer: NamedDependency[CurrentUser],
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """« Mes attestations »: the attestations obtained, and a form for each one the learner may ask for."""
        flash = Flash("C’est fait : votre attestation est prête.") if fait == "attestation" else None
        return await self._mine(viewer, attestations, flash=flash)

    @post("/compte/attestations", name="web:attestations-post", guards=[requires_signed_in])
    async def obtain(
        self,
        data: URLEncodedBody[AttestationForm],
        attestations: NamedDependency[AttestationService],
        viewer: NamedDependency[CurrentUser],
    ) -> Redirect | Template:
        """« Obtenir mon attestation »: issue it with the name given (or find the one in force)."""
        module = None if data.cours == "1" else data.module
        if module == "":
            raise AttestationNotFound("No module named.")
        try:
            await attestations.issue(viewer.id, module_slug=module, name=data.name)
        except InvalidName:
            flash = Flash(
                f"Indiquez le nom à inscrire sur l’attestation ({NAME_MAX} caractères au plus, en lettres que "
                "l’attestation sait imprimer).", "error",
            )  # fmt: skip
            return await self._mine(viewer, attestations, flash=flash, status_code=422, name=data.name)
        except NotCompleted:
            flash = Flash("Ce n’est pas encore possible : terminez d’abord toutes les leçons.", "error")
            return await self._mine(viewer, attestations, flash=flash, status_code=409, name=data.name)
        return see_other("/compte/attestations?fait=attestation")

    @page_route("/compte/attestations/{filename:str}", name="web:attestation-pdf", guards=[requires_signed_in])
    async def pdf(
        self,
        filename: FromPath[str],
        attestations: NamedDependency[AttestationService],
        viewer: NamedDependency[CurrentUser],
    ) -> Response[Any]:
        """The PDF of one of the learner's attestations (``{number}.pdf``)."""
        number, dot, extension = filename.rpartition(".")
        if not dot or extension != "pdf":
            raise AttestationNotFound("No such file.")
        found, document = await attestations.pdf(viewer.id, number)
        name = f"attestation-{found.number}.pdf"
        return Response(
            document, media_type=PDF,
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"},
        )  # fmt: skip
