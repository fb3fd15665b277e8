"""Server-rendered pages for learners and admins (templates, static files, cookie sessions).

``web_routes(settings)`` gives the app two routers: the pages (CSRF-checked forms, security headers,
HTML error pages) and the static files. ``template_config()`` is the Jinja2 set-up they render with.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from learning.config import Settings
from learning.lib.errors import EXCEPTION_HANDLERS, LearningError, problem_for
from learning.web.account import AccountPages, LearnerPages
from learning.web.admin import AdminPages
from learning.web.admin_editing import AdminEditPages
from learning.web.attestations import AttestationPages
from learning.web.pages import PublicPages
from learning.web.podsync import PodsyncPages
from learning.web.quizzes import QuizPages
from learning.web.security import SignInRequired, csrf_config, known_viewer, security_headers, sign_in_url
from learning.web.templating import STATIC, STATIC_PREFIX, page, template_config

__all__ = ["negotiated_error", "template_config", "web_routes"]

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
    503: "Service momentanément indisponible",
}
DETAILS = {
    403: "Vous n’avez pas accès à cette page, ou la vérification de sécurité du formulaire a échoué : "
    "rechargez la page et réessayez.",
    404: "Cette page n’existe pas, ou n’est pas (encore) publiée.",
    503: "Le service ne répond pas pour le moment : réessayez dans quelques instants.",
}


def _page_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Errors on pages are pages too (in French); signing in is a redirect. The status, the headers (such as
    Retry-After) and the logging are the API's (``problem_for``); the security headers come from
    ``SecurityHeaders``, as for every HTML answer."""
    if isinstance(exc, SignInRequired):
        pending = exc.extra.get("pending")
        target = sign_in_url(str(exc.extra.get("next", "/")), str(pending) if pending else None)
        return Redirect(target, status_code=303)
    problem = problem_for(request, exc)
    status = problem.status_code or 500
    title = TITLES.get(status, "Erreur du serveur" if status >= 500 else "Erreur")
    detail = DETAILS.get(status, "")
    if isinstance(exc, LearningError) and status != 404 and exc.detail and not exc.detail.isascii():
        detail = exc.detail  # our pages' own messages are in French; the services' are in English
    headers = {name: value for name, value in problem.headers.items() if name.lower() != "content-type"}
    return page("error.html", known_viewer(request), status_code=status, headers=headers, title=title, detail=detail)


# Where machines read the answers: their errors stay problem+json whatever the Accept header says.
_MACHINE_PATHS = ("/api/", "/feeds/", "/media/", "/health", "/schema", STATIC_PREFIX)


def negotiated_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """An error raised before any page route was chosen (an unknown address, a method the path does not take):
    the French HTML error page for a browser (``Accept`` names ``text/html``) on a page address, else the API's
    problem+json."""
    accept = request.headers.get("accept", "")
    if "text/html" in accept and not request.url.path.startswith(_MACHINE_PATHS):
        return _page_error(request, exc)
    return problem_for(request, exc)


def web_routes(settings: Settings) -> list[Router]:
    pages = Router(
        path="/",
        route_handlers=[
            PublicPages,
            AccountPages,
            LearnerPages,
            QuizPages,
            AttestationPages,
            PodsyncPages,
            AdminPages,
            AdminEditPages,
        ],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf_config(settings))],
        response_headers=security_headers(settings),
        exception_handlers=dict.fromkeys(EXCEPTION_HANDLERS, _page_error),
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
