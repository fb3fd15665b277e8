"""``/schema``: the API reference as a page of our own, rendered on the server from the OpenAPI document.

No script and nothing from another origin (the page used to load a CDN's latest script on the origin of
the session cookie, and was blank offline): the operations grouped by tag, with their parameters and
answers, and links to the document itself (``/schema/openapi.json``) for tools that render it.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from typing import Any

from litestar import Request, Router
from litestar.datastructures import ResponseHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "code{font-family:ui-monospace,monospace}.op{border-top:1px solid #ccc;padding:.5rem 0}"
    ".method{font-weight:bold;text-transform:uppercase;display:inline-block;min-width:4.5rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


class ApiReferencePage(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        by_tag: dict[str, list[str]] = {}
        for path, item in openapi_schema.get("paths", {}).items():
            for method in _METHODS:
                if (operation := item.get(method)) is not None:
                    tag = (operation.get("tags") or ["other"])[0]
                    by_tag.setdefault(tag, []).append(_operation(method, path, operation))
        sections = "".join(
            f"<section><h2>{escape(tag)}</h2>{''.join(operations)}</section>" for tag, operations in by_tag.items()
        )
        document = self.get_openapi_json_route(request)
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(str(info.get('title', 'API')))} — API reference</title><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(str(info.get('title', 'API')))} {escape(str(info.get('version', '')))}</h1>"
            f"<p>{escape(str(info.get('description', '')))}</p>"
            f'<p>The OpenAPI document: <a href="{escape(document)}">{escape(document)}</a>.</p>'
            f"{sections}</body></html>"
        ).encode()


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    parameters = ", ".join(
        f"<code>{escape(str(p.get('name')))}</code> ({escape(str(p.get('in')))})"
        for p in operation.get("parameters", [])
        if isinstance(p, dict)
    )
    answers = ", ".join(escape(str(status)) for status in operation.get("responses", {}))
    summary = operation.get("summary") or operation.get("operationId") or ""
    description = str(operation.get("description") or "").strip()
    return (
        f'<div class="op" id="{escape(str(operation.get("operationId", "")))}">'
        f'<span class="method">{escape(method)}</span> <code>{escape(path)}</code> '
        f"— {escape(str(summary))} <small>({escape(str(operation.get('operationId', '')))})</small>"
        + (f"<p>{escape(description)}</p>" if description else "")
        + (f"<p>Parameters: {parameters}</p>" if parameters else "")
        + (f"<p>Answers: {answers}</p>" if answers else "")
        + (
            f"<p>Body: {escape(', '.join(operation['requestBody'].get('content', {})))}</p>"
            if "requestBody" in operation
            else ""
        )
        + "</div>"
    )


def api_reference_router(path: str = "/schema") -> Router:
    """The router of the OpenAPI routes: the page and the document, with headers that forbid framing,
    sniffing and any other origin."""
    return Router(
        path,
        route_handlers=[],
        include_in_schema=False,
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY),
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ResponseHeader(name="Referrer-Policy", value="same-origin"),
            ResponseHeader(name="X-Frame-Options", value="DENY"),
        ],
    )
