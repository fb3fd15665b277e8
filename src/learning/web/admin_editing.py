"""The admin's forms (admin role only): create and edit a webinar session or a module, and set its publication.

The handlers read the form (``admin_forms``) and hand the admin API's own bodies to the same service the API
uses (``CatalogEditor``). A refused form comes back with the values as typed and a French message next to each
field concerned (422); a saved one sends the admin back to the desk, at the item's row, with the message there.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from learning.accounts.auth import CurrentUser
from learning.catalog import schemas as s
from learning.catalog.deps import provide_catalog_editor
from learning.catalog.editing import CatalogEditor
from learning.catalog.services import SeriesNotFound, SlugConflict
from learning.lib.errors import NotFound
from learning.registrations.deps import provide_registration_service
from learning.registrations.services import RegistrationService
from learning.web.admin_forms import (
    MESSAGES,
    ROLE_LABELS,
    STATUS_LABELS,
    TAKEN,
    Form,
    module_values,
    read_module,
    read_session,
    session_values,
    speaker_rows,
)
from learning.web.deps import provide_viewer
from learning.web.security import requires_admin_page
from learning.web.templating import page, see_other
from learning.web.views import page_route

FormBody = URLEncodedBody[dict[str, str]]
NEW_SESSION = {"duree": "60", "statut": "upcoming", "publication": "brouillon"}
NEW_MODULE = {"ordre": "0", "publication": "brouillon"}


def _session_page(
    viewer: CurrentUser, form: Form, *, series: list[tuple[str, str]], action: str, title: str, status_code: int = 200
) -> Template:
    return page(
        "admin/session_form.html", viewer, status_code=status_code, form=form, values=form.values,
        errors=form.errors, speakers=form.speakers or speaker_rows(form.values), series=series, action=action,
        heading=title, statuses=STATUS_LABELS, roles=ROLE_LABELS, messages=MESSAGES,
    )  # fmt: skip


def _module_page(viewer: CurrentUser, form: Form, *, action: str, title: str, status_code: int = 200) -> Template:
    return page(
        "admin/module_form.html", viewer, status_code=status_code, form=form, values=form.values,
        errors=form.errors, action=action, heading=title, messages=MESSAGES,
    )  # fmt: skip


def _back_to(done: str, target: str, anchor: str) -> Redirect:
    return see_other(f"/admin/?fait={done}&cible={quote(target)}#{anchor}")


def _fields(data: dict[str, Any]) -> dict[str, str]:
    return {name: value for name, value in data.items() if isinstance(value, str) and name != "_csrf_token"}


class AdminEditPages(Controller):
    path = "/admin"
    guards = [requires_admin_page]
    dependencies = {
        "editor": Provide(provide_catalog_editor, sync_to_thread=False),
        "registrations": Provide(provide_registration_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    # --- webinar sessions ---------------------------------------------------------------------------
    @page_route("/seances/nouvelle", name="web:admin-session-new")
    async def new_session(
        self,
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
        serie: Annotated[str, QueryParameter(max_length=120)] = "",
    ) -> Template:
        """The form of a new session (a draft unless its publication says otherwise)."""
        series = await editor.series_choices()
        chosen = serie if serie in {slug for slug, _ in series} else (series[0][0] if len(series) == 1 else "")
        form = Form(NEW_SESSION | {"serie": chosen})
        return _session_page(viewer, form, series=series, action="/admin/seances/nouvelle", title="Nouvelle séance")

    @post("/seances/nouvelle", name="web:admin-session-create")
    async def create_session(
        self, data: FormBody, editor: NamedDependency[CatalogEditor], viewer: NamedDependency[CurrentUser]
    ) -> Template | Redirect:
        """Create the session (and publish or schedule it when asked); back to the form when it is refused."""
        form = read_session(_fields(data), creating=True)
        body = form.convert(s.SessionCreate) if not form.errors else None
        series_slug = form.value("serie")
        if body is not None:
            try:
                await editor.create_session(series_slug, body)
            except SlugConflict:
                form.fail("adresse", TAKEN)
            except SeriesNotFound:
                form.fail("serie")
            else:
                if form.publication is not None:
                    await editor.publish_session(series_slug, body.slug, form.publication)
                target = f"session:{series_slug}/{body.slug}"
                return _back_to("seance-creee", target, f"session-{series_slug}-{body.slug}")
        series = await editor.series_choices()
        action, title = "/admin/seances/nouvelle", "Nouvelle séance"
        return _session_page(viewer, form, series=series, action=action, title=title, status_code=422)

    @page_route("/seances/{series_slug:str}/{session_slug:str}/inscrits", name="web:admin-session-registrants")
    async def registrants(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        editor: NamedDependency[CatalogEditor],
        registrations: NamedDependency[RegistrationService],
        viewer: NamedDependency[CurrentUser],
    ) -> Template:
        """Who registered for a session and who attended (a draft session has nobody: it is not public)."""
        session = await editor.session(series_slug, session_slug)
        try:
            found = await registrations.of_session(series_slug, session_slug)
        except NotFound:
            found = []
        attended = sum(1 for item in found if item.registration.attended_at is not None)
        return page("admin/registrants.html", viewer, session=session, registrants=found, attended=attended)

    @page_route("/seances/{series_slug:str}/{session_slug:str}/modifier", name="web:admin-session-edit")
    async def edit_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
    ) -> Template:
        """The form of a session, filled with what is stored."""
        session = await editor.session(series_slug, session_slug)
        form = Form(session_values(session))
        action = f"/admin/seances/{series_slug}/{session_slug}/modifier"
        return _session_page(viewer, form, series=[], action=action, title=f"Modifier « {session.title} »")

    @post("/seances/{series_slug:str}/{session_slug:str}/modifier", name="web:admin-session-update")
    async def update_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        data: FormBody,
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
    ) -> Template | Redirect:
        """Save the session's fields and publication; back to the form when it is refused."""
        session = await editor.session(series_slug, session_slug)
        form = read_session(_fields(data), creating=False, current=session)
        body = form.convert(s.SessionUpdate) if not form.errors else None
        if body is None:
            action = f"/admin/seances/{series_slug}/{session_slug}/modifier"
            title = f"Modifier « {session.title} »"
            return _session_page(viewer, form, series=[], action=action, title=title, status_code=422)
        await editor.update_session(series_slug, session_slug, body)
        if form.publication is not None:
            await editor.publish_session(series_slug, session_slug, form.publication)
        target = f"session:{series_slug}/{session_slug}"
        return _back_to("enregistre", target, f"session-{series_slug}-{session_slug}")

    # --- modules ------------------------------------------------------------------------------------
    @page_route("/modules/nouveau", name="web:admin-module-new")
    async def new_module(self, viewer: NamedDependency[CurrentUser]) -> Template:
        """The form of a new module (a draft unless its publication says otherwise)."""
        return _module_page(viewer, Form(dict(NEW_MODULE)), action="/admin/modules/nouveau", title="Nouveau module")

    @post("/modules/nouveau", name="web:admin-module-create")
    async def create_module(
        self, data: FormBody, editor: NamedDependency[CatalogEditor], viewer: NamedDependency[CurrentUser]
    ) -> Template | Redirect:
        """Create the module (and publish or schedule it when asked); back to the form when it is refused."""
        form = read_module(_fields(data), creating=True)
        body = form.convert(s.ModuleCreate) if not form.errors else None
        if body is not None:
            try:
                await editor.create_module(body)
            except SlugConflict:
                form.fail("adresse", TAKEN)
            else:
                if form.publication is not None:
                    await editor.publish_module(body.slug, form.publication)
                return _back_to("module-cree", f"module:{body.slug}", f"module-{body.slug}")
        return _module_page(viewer, form, action="/admin/modules/nouveau", title="Nouveau module", status_code=422)

    @page_route("/modules/{slug:str}/modifier", name="web:admin-module-edit")
    async def edit_module(
        self, slug: FromPath[str], editor: NamedDependency[CatalogEditor], viewer: NamedDependency[CurrentUser]
    ) -> Template:
        """The form of a module, filled with what is stored."""
        module = await editor.module(slug)
        form = Form(module_values(module))
        action, title = f"/admin/modules/{slug}/modifier", f"Modifier « {module.title} »"
        return _module_page(viewer, form, action=action, title=title)

    @post("/modules/{slug:str}/modifier", name="web:admin-module-update")
    async def update_module(
        self,
        slug: FromPath[str],
        data: FormBody,
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
    ) -> Template | Redirect:
        """Save the module's fields and publication; back to the form when it is refused."""
        module = await editor.module(slug)
        form = read_module(_fields(data), creating=False, current=module)
        body = form.convert(s.ModuleUpdate) if not form.errors else None
        if body is None:
            action, title = f"/admin/modules/{slug}/modifier", f"Modifier « {module.title} »"
            return _module_page(viewer, form, action=action, title=title, status_code=422)
        await editor.update_module(slug, body)
        if form.publication is not None:
            await editor.publish_module(slug, form.publication)
        return _back_to("enregistre", f"module:{slug}", f"module-{slug}")
