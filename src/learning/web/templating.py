"""The Jinja2 environment of the pages (autoescaping on for every template, French typography on every page's
text) and the page response."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2 import Template as JinjaTemplate
from litestar.datastructures import Cookie
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template import TemplateConfig

from learning.accounts.auth import CurrentUser
from learning.lib.typography import french_html
from learning.web.formatting import clock, date_fr, datetime_fr, duration_fr, session_state_fr, size_fr

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"


@cache
def static_url(name: str) -> str:
    """A static file's URL with a digest of its content, so browsers may keep it for a year."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_PREFIX}/{name}?v={digest}"


class FrenchTemplate(JinjaTemplate):
    """A template whose rendered page has French typography in its text nodes: the templates' own words and
    every title, summary or name they show, whoever wrote them (attributes, forms' fields and code untouched)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return french_html(super().render(*args, **kwargs))


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its name: titles and names come from uploads too
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.template_class = FrenchTemplate
    env.filters.update(
        date_fr=date_fr, datetime_fr=datetime_fr, duration=duration_fr, clock=clock, size=size_fr,
        session_state=session_state_fr,
    )  # fmt: skip
    env.globals["static"] = static_url
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))


@dataclass(frozen=True, slots=True)
class Flash:
    """A one-line message at the top of a page (``kind``: ``info`` or ``error``)."""

    text: str
    kind: str = "info"


# « Fait » notices after a learner's action (the action redirects with ?fait=…): said where the page opens.
DONE_NOTICES = {
    "inscrit": "C’est fait : vous êtes inscrit à ce module. Votre progression sera enregistrée sur tous vos appareils.",
    "desinscrit": "Vous n’êtes plus inscrit à ce module. Votre progression est conservée : "
    "elle reviendra si vous vous réinscrivez.",
    "terminee": "Leçon précédente marquée comme terminée. Voici la suivante.",
    "termine-fin": "Leçon marquée comme terminée.",
    "seance-inscrit": "C’est fait : vous êtes inscrit à cette séance. Un e-mail de confirmation part, avec "
    "l’événement à ajouter à votre agenda ; un rappel suivra la veille et peu avant le début.",
    "mot-de-passe": "C’est fait : votre mot de passe a changé. Vos autres connexions sont fermées.",
    "compte-supprime": "Votre compte est supprimé, avec tout ce qui s’y rattachait.",
    "seance-desinscrit": "Vous n’êtes plus inscrit à cette séance : vous ne recevrez plus de message à son sujet.",
    "adresse-confirmee": "C’est fait : votre adresse e-mail est confirmée.",
    "lien-envoye": "Un nouveau lien de confirmation part vers votre adresse : ouvrez-le pour la confirmer.",
    "a-confirmer": "Pour vous inscrire à un module, confirmez d’abord votre adresse e-mail : ouvrez le lien que "
    "nous vous avons envoyé, ou demandez-en un nouveau ci-dessous.",
}


def done_flash(fait: str) -> Flash | None:
    """The confirmation of the action that led to a page (``?fait=``), if it is one of ours."""
    notice = DONE_NOTICES.get(fait)
    return Flash(notice) if notice is not None else None


def page(
    name: str,
    viewer: CurrentUser | None,
    *,
    status_code: int = 200,
    flash: Flash | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=name,
        context={"viewer": viewer, "flash": flash, **context},
        status_code=status_code,
        media_type="text/html",
        headers=headers,
    )


def see_other(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """The answer to a form: 303, so the browser follows with a GET (a reload does not post again)."""
    return Redirect(path, status_code=303, cookies=cookies)
