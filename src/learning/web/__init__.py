"""Server-rendered pages for learners and admins (templates, static files, cookie sessions).

``web_routes(settings)`` gives the app two routers: the pages (CSRF-checked forms, security headers,
HTML error pages) and the static files. ``template_config()`` is the Jinja2 set-up they render with.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from learning.config import Settings
from learning.lib.errors import LearningError
from learning.web.account import AccountPages, LearnerPages
from learning.web.admin import AdminPages
from learning.web.pages import PublicPages
from learning.web.security import SignInRequired, csrf_config, known_viewer, security_headers, sign_in_url
from learning.web.templating import STATIC, STATIC_PREFIX, page, template_config

__all__ = ["template_config", "web_routes"]

TITLES = {
    400: "Requête invalide",
    401: "Connexion requise",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non permise",
    409: "Conflit",
    413: "Contenu trop volumineux",
    422: "Requête impossible à traiter",
    429: "Trop de requêtes",
}
DETAILS = {
    403: "Vous n’avez pas accès à cette page, ou la vérification de sécurité du formulaire a échoué : "
    "rechargez la page et réessayez.",
    404: "Cette page n’existe pas, ou n’est pas (encore) publiée.",
}


def _page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Errors on pages are pages too (in French); signing in is a redirect."""
    if isinstance(exc, SignInRequired):
        return Redirect(sign_in_url(str(exc.extra.get("next", "/"))), status_code=303)
    status = exc.status_code if isinstance(exc, LearningError | HTTPException) else 500
    title = TITLES.get(status, "Erreur du serveur" if status >= 500 else "Erreur")
    detail = DETAILS.get(status, "")
    if isinstance(exc, LearningError) and status != 404 and exc.detail and not exc.detail.isascii():
        detail = exc.detail  # our pages' own messages are in French; the services' are in English
    headers = exc.headers if isinstance(exc, LearningError) else None
    return page("error.html", known_viewer(request), status_code=status, headers=headers, title=title, detail=detail)


def web_routes(settings: Settings) -> list[Router]:
    pages = Router(
        path="/",
        route_handlers=[PublicPages, AccountPages, LearnerPages, AdminPages],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf_config(settings))],
        response_headers=security_headers(settings),
        exception_handlers={
            LearningError: _page_error,
            HTTPException: _page_error,
            ValidationException: _page_error,
        },
        include_in_schema=False,
        opt={"exclude_from_auth": True},  # pages read the session cookie themselves (web/security.py)
    )
    static = create_static_files_router(
        path=STATIC_PREFIX,
        directories=[STATIC],
        name="web:static",
        cache_control=CacheControlHeader(public=True, max_age=365 * 24 * 3600),  # URLs carry a content digest
        opt={"exclude_from_auth": True},
    )
    return [pages, static]
