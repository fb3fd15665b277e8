"""Admin endpoints over the catalog: create and edit modules, lessons and webinar sessions, and change
their publication (publish now, schedule, unpublish). Admin role required."""

from __future__ import annotations

from typing import Any

from litestar import Controller, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from learning.accounts.auth import requires_admin
from learning.catalog import schemas as s
from learning.catalog.deps import provide_catalog_editor
from learning.catalog.editing import CatalogEditor
from learning.lib.guards import requires_json_body


def _item(row: Any) -> s.AdminItem:
    return s.AdminItem(
        id=row.id, slug=row.slug, title=row.title, publication=row.publication, publish_at=row.publish_at,
        updated_at=row.updated_at,
    )  # fmt: skip


CONFLICT = {"problems": [409]}


class AdminCatalogController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [requires_admin, requires_json_body]
    dependencies = {"editor": Provide(provide_catalog_editor, sync_to_thread=False)}

    @post("/modules", operation_id="CreateModule", status_code=HTTP_201_CREATED, opt=CONFLICT)
    async def create_module(
        self, data: JSONBody[s.ModuleCreate], editor: NamedDependency[CatalogEditor]
    ) -> s.AdminItem:
        """Create a module (a draft until published)."""
        return _item(await editor.create_module(data))

    @patch("/modules/{slug:str}", operation_id="UpdateModule")
    async def update_module(
        self, slug: FromPath[str], data: JSONBody[s.ModuleUpdate], editor: NamedDependency[CatalogEditor]
    ) -> s.AdminItem:
        """Change some fields of a module."""
        return _item(await editor.update_module(slug, data))

    @put("/modules/{slug:str}/publication", operation_id="SetModulePublication")
    async def publish_module(
        self, slug: FromPath[str], data: JSONBody[s.PublicationRequest], editor: NamedDependency[CatalogEditor]
    ) -> s.PublicationRead:
        """Publish, schedule or unpublish a module."""
        return await editor.publish_module(slug, data.change())

    @post("/modules/{slug:str}/lessons", operation_id="CreateLesson", status_code=HTTP_201_CREATED, opt=CONFLICT)
    async def create_lesson(
        self, slug: FromPath[str], data: JSONBody[s.LessonCreate], editor: NamedDependency[CatalogEditor]
    ) -> s.AdminItem:
        """Add a lesson to a module (a draft until published)."""
        return _item(await editor.create_lesson(slug, data))

    @patch("/modules/{slug:str}/lessons/{lesson_slug:str}", operation_id="UpdateLesson")
    async def update_lesson(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        data: JSONBody[s.LessonUpdate],
        editor: NamedDependency[CatalogEditor],
    ) -> s.AdminItem:
        """Change some fields of a lesson."""
        return _item(await editor.update_lesson(slug, lesson_slug, data))

    @put("/modules/{slug:str}/lessons/{lesson_slug:str}/publication", operation_id="SetLessonPublication")
    async def publish_lesson(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        data: JSONBody[s.PublicationRequest],
        editor: NamedDependency[CatalogEditor],
    ) -> s.PublicationRead:
        """Publish, schedule or unpublish a lesson."""
        return await editor.publish_lesson(slug, lesson_slug, data.change())

    @post(
        "/webinars/{series_slug:str}/sessions",
        operation_id="CreateWebinarSession",
        status_code=HTTP_201_CREATED,
        opt=CONFLICT,
    )
    async def create_session(
        self,
        series_slug: FromPath[str],
        data: JSONBody[s.SessionCreate],
        editor: NamedDependency[CatalogEditor],
    ) -> s.AdminItem:
        """Add a session to a webinar series (a draft until published)."""
        return _item(await editor.create_session(series_slug, data))

    @patch("/webinars/{series_slug:str}/sessions/{session_slug:str}", operation_id="UpdateWebinarSession")
    async def update_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        data: JSONBody[s.SessionUpdate],
        editor: NamedDependency[CatalogEditor],
    ) -> s.AdminItem:
        """Change some fields of a webinar session."""
        return _item(await editor.update_session(series_slug, session_slug, data))

    @put(
        "/webinars/{series_slug:str}/sessions/{session_slug:str}/publication",
        operation_id="SetWebinarSessionPublication",
    )
    async def publish_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        data: JSONBody[s.PublicationRequest],
        editor: NamedDependency[CatalogEditor],
    ) -> s.PublicationRead:
        """Publish, schedule or unpublish a webinar session."""
        return await editor.publish_session(series_slug, session_slug, data.change())
