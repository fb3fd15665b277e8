"""Dependency providers of the catalog domain."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.catalog.editing import CatalogEditor
from learning.catalog.repositories import CatalogRepository
from learning.catalog.services import CatalogService
from learning.edge import AnswerStore


def provide_catalog_service(db_session: NamedDependency[AsyncSession], state: State) -> CatalogService:
    settings = state.settings
    return CatalogService(CatalogRepository(db_session), settings.base_url, search_count_cap=settings.search_count_cap)


def provide_catalog_editor(db_session: NamedDependency[AsyncSession]) -> CatalogEditor:
    return CatalogEditor(CatalogRepository(db_session))


def provide_answers(state: State) -> AnswerStore:
    answers: AnswerStore = state.edge.answers
    return answers
