"""Loading the shipped content into a test database."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jsonschema
from litestar.testing import TestClient

from learning.admin.commands import sync_content
from learning.catalog.sync import SyncReport
from learning.config import Settings

SERIES = "innovation-territoriale-en-actions-2019"


def sync(settings: Settings, root: Path | None = None, *, dry_run: bool = False) -> SyncReport:
    return asyncio.run(sync_content(settings, root or settings.content_root, dry_run=dry_run))


def resolve_ref(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema for one response, with the document's components to resolve $refs."""
    return {**schema, "components": document["components"]}


def validate(document: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Check ``body`` against what the OpenAPI document says ``method path`` answers with ``status``."""
    operation = document["paths"][path][method]
    content = operation["responses"][str(status)]["content"]
    schema = next(iter(content.values()))["schema"]
    validator = jsonschema.Draft202012Validator(resolve_ref(schema, document))
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]]


def search(client: TestClient[Any], query: str, **params: Any) -> dict[str, Any]:
    """``GET /api/v1/search?q=query`` (and ``params``): the answer's body, once it is a 200."""
    response = client.get("/api/v1/search", params={"q": query, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
