"""The admin's forms for a webinar session and a module: what was typed, read into the admin API's own bodies
(``catalog.schemas``), with a French message per field for what cannot be, and the typed values kept to show
the form again. No service here: ``admin_editing`` hands the result to the catalog editor."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, TypeVar

import msgspec

from learning.catalog import schemas as s
from learning.db import models as m
from learning.lib.clock import plausible
from learning.web.formatting import PARIS

T = TypeVar("T")
MAX_SPEAKERS = 50
SPARE_SPEAKER_ROWS = 2
TEXT_MAX = 200_000
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SPEAKER_FIELD = re.compile(r"^intervenant-(\d{1,2})-(nom|organisation|role)$")

# What an admin decides of a session: it takes place or it is cancelled. The rest follows the clock (à venir, en
# direct, terminée) and the replay (rediffusion disponible).
STATUS_LABELS = {
    m.SessionStatus.UPCOMING: "Prévue (à venir, puis en direct, puis terminée, selon l’heure)",
    m.SessionStatus.CANCELLED: "Annulée",
}
_JOIN_URL = re.compile(r"^https?://\S+$")
ROLE_LABELS = {"guest": "Intervention", "host": "Animation"}
PUBLICATIONS = {
    "brouillon": m.Publication.DRAFT,
    "publie": m.Publication.PUBLISHED,
    "programme": m.Publication.SCHEDULED,
}

MESSAGES = {
    "serie": "Choisissez la série de la séance.",
    "titre": "Donnez un titre (300 caractères au plus).",
    "adresse": "L’adresse ne prend que des lettres minuscules sans accent, des chiffres et des tirets simples "
    "(120 caractères au plus), par exemple « 2027-01-retours-d-experience ».",
    "date": "Donnez la date de la séance, entre 1900 et 2200.",
    "heure": "Donnez l’heure de début, par exemple 11:00.",
    "duree": "La durée est un nombre entier de minutes, de 1 à 1440.",
    "statut": "Choisissez un état dans la liste.",
    "lien": "Donnez l’adresse complète de la salle en ligne, commençant par https:// (2000 caractères au plus).",
    "motif": "Ce texte est trop long (1000 caractères au plus).",
    "resume": "Ce texte est trop long (200 000 caractères au plus).",
    "texte": "Ce texte est trop long (200 000 caractères au plus).",
    "description": "Ce texte est trop long (200 000 caractères au plus).",
    "avertissement": "Ce texte est trop long (200 000 caractères au plus).",
    "public": "Ce texte est trop long (200 000 caractères au plus).",
    "prerequis": "Ce texte est trop long (200 000 caractères au plus).",
    "mots_cles": "Au plus 50 mots-clés, séparés par des virgules, de 80 caractères au plus chacun.",
    "ordre": "L’ordre est un nombre entier, de 0 à 10000.",
    "objectifs": "Au plus 8 objectifs, un par ligne, de 300 caractères au plus chacun.",
    "intervenant": "Chaque intervenant a un nom (200 caractères au plus) ; son organisation (200 caractères au plus) "
    "est facultative.",
    "publication": "Choisissez : brouillon, publier maintenant ou programmer.",
    "publication_date": "Pour programmer la publication, donnez sa date (entre 1900 et 2200) et son heure.",
}
TAKEN = "Cette adresse est déjà prise : choisissez-en une autre, ou changez le titre."
# The API's field names, and the form's field that holds each.
_FIELDS = {
    "slug": "adresse", "title": "titre", "scheduled_at": "date", "summary": "resume", "body_markdown": "texte",
    "duration_minutes": "duree", "status": "statut", "speakers": "intervenant", "tags": "mots_cles",
    "description_markdown": "description", "position": "ordre", "notice": "avertissement", "objectives": "objectifs",
    "audience": "public", "prerequisites": "prerequis",
}  # fmt: skip


def slugify(text: str, *, limit: int = 120) -> str:
    """« Retours d'expérience ! » → ``retours-d-experience``: the address a title gives when none is typed."""
    spaced = re.sub(r"[’'ʼ]", " ", text)  # an apostrophe separates words (d’expérience: d-experience)
    ascii_text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-")


def tags_of(text: str) -> list[str]:
    return [tag for tag in (slugify(part, limit=80) for part in text.split(",")) if tag]


@dataclass
class Form:
    """A form as typed (``values``), its errors by field, and what it reads as once it has none."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    speakers: list[dict[str, str]] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)  # the API body's fields
    publication: s.PublicationChange | None = None

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default).strip()

    def fail(self, name: str, message: str | None = None) -> None:
        self.errors.setdefault(name, message or MESSAGES[name])

    def convert(self, schema: type[T]) -> T | None:
        """The body as the admin API reads it (the same schema, the same limits); None, and the field's message,
        when it is refused."""
        try:
            return msgspec.convert(self.body, schema)
        except msgspec.ValidationError as exc:
            found = re.search(r"at `\$\.(\w+)", str(exc))
            name = _FIELDS.get(found.group(1), "titre") if found else "titre"
            self.fail(name if name in MESSAGES else "titre")
            return None


def _text(form: Form, name: str, key: str, *, required: bool = False, limit: int = TEXT_MAX) -> None:
    text = form.value(name)
    if (required and not text) or len(text) > limit:
        form.fail(name)
    form.body[key] = text


def _moment(form: Form, day_field: str, hour_field: str, day_error: str, hour_error: str) -> datetime | None:
    """A date and a time typed in the pages' time zone (Europe/Paris), as an aware moment; None (and the
    field's message) when either cannot be read or the year is not plausible."""
    try:
        day = date.fromisoformat(form.value(day_field))
    except ValueError:
        form.fail(day_error)
        return None
    try:
        hour = time.fromisoformat(form.value(hour_field))
    except ValueError:
        form.fail(hour_error)
        return None
    moment = datetime.combine(day, hour.replace(tzinfo=None), tzinfo=PARIS)
    if not plausible(moment):
        form.fail(day_error)
        return None
    return moment


def _publication(form: Form, current: tuple[m.Publication, datetime | None] | None) -> None:
    """The publication asked for; None when it does not change what is (an item published stays published
    since its first date, not since this save)."""
    state = PUBLICATIONS.get(form.value("publication", "brouillon"))
    if state is None:
        form.fail("publication")
        return
    publish_at = None
    if state is m.Publication.SCHEDULED:
        publish_at = _moment(form, "publication_date", "publication_heure", "publication_date", "publication_date")
        if publish_at is None:
            return
    if (
        current is not None
        and current[0] is state
        and (state is not m.Publication.SCHEDULED or current[1] == publish_at)
    ):
        return
    if current is None and state is m.Publication.DRAFT:
        return
    form.publication = s.PublicationChange(state=state, publish_at=publish_at)


def _slug(form: Form, fallback: str) -> None:
    typed = form.value("adresse")
    slug = typed or fallback
    if not slug or len(slug) > 120 or not _SLUG.match(slug):
        form.fail("adresse" if typed else "titre")
    form.body["slug"] = slug


def speaker_rows(values: dict[str, str]) -> list[dict[str, str]]:
    """The speaker rows as typed (so a refused form shows them again), and spare empty rows to add one."""
    rows: dict[int, dict[str, str]] = {}
    for name, value in values.items():
        found = _SPEAKER_FIELD.match(name)
        if found and int(found.group(1)) < MAX_SPEAKERS:
            rows.setdefault(int(found.group(1)), {})[found.group(2)] = value.strip()
    typed = [rows[index] for index in sorted(rows) if rows[index].get("nom") or rows[index].get("organisation")]
    spare = [{"nom": "", "organisation": "", "role": "guest"} for _ in range(SPARE_SPEAKER_ROWS)]
    return [{"nom": "", "organisation": "", "role": "guest"} | row for row in typed] + spare


def read_session(values: dict[str, str], *, creating: bool, current: m.WebinarSession | None = None) -> Form:
    """A session's form: a ``SessionCreate`` (``creating``) or ``SessionUpdate`` body, and its publication."""
    form = Form(values)
    if creating and not form.value("serie"):
        form.fail("serie")
    _text(form, "titre", "title", required=True, limit=300)
    scheduled = _moment(form, "date", "heure", "date", "heure")
    if scheduled is not None:
        form.body["scheduled_at"] = scheduled
    if creating:
        _slug(form, slugify(f"{scheduled:%Y-%m}-{form.value('titre')}" if scheduled else form.value("titre")))
    minutes = form.value("duree", "60")
    if not minutes.isascii() or not minutes.isdigit() or not 1 <= int(minutes) <= 24 * 60:
        form.fail("duree")
    else:
        form.body["duration_minutes"] = int(minutes)
    status = form.value("statut", m.SessionStatus.UPCOMING.value)
    if status not in {item.value for item in STATUS_LABELS}:
        form.fail("statut")
    form.body["status"] = status
    join_url = form.value("lien")
    if join_url and (len(join_url) > 2000 or not _JOIN_URL.match(join_url)):
        form.fail("lien")
    form.body["join_url"] = join_url
    _text(form, "motif", "cancel_reason", limit=1000)
    _text(form, "resume", "summary")
    _text(form, "texte", "body_markdown")
    form.speakers = speaker_rows(values)
    speakers = []
    for index, row in enumerate(form.speakers):
        if not row["nom"] and not row["organisation"]:
            continue
        if not row["nom"] or len(row["nom"]) > 200 or len(row["organisation"]) > 200:
            form.fail(f"intervenant-{index}-nom", MESSAGES["intervenant"])
        role = row["role"] if row["role"] in ROLE_LABELS else "guest"
        speakers.append({"name": row["nom"], "organisation": row["organisation"], "role": role})
    form.body["speakers"] = speakers
    form.body["tags"] = tags_of(form.value("mots_cles"))
    if len(form.body["tags"]) > 50:
        form.fail("mots_cles")
    _publication(form, (current.publication, current.publish_at) if current is not None else None)
    return form


def read_module(values: dict[str, str], *, creating: bool, current: m.Module | None = None) -> Form:
    """A module's form: a ``ModuleCreate`` (``creating``) or ``ModuleUpdate`` body, and its publication."""
    form = Form(values)
    _text(form, "titre", "title", required=True, limit=300)
    if creating:
        _slug(form, slugify(form.value("titre")))
    for name, key in (("resume", "summary"), ("description", "description_markdown"), ("avertissement", "notice"),
                      ("public", "audience"), ("prerequis", "prerequisites")):  # fmt: skip
        _text(form, name, key)
    position = form.value("ordre", "0")
    if not position.isascii() or not position.isdigit() or int(position) > 10_000:
        form.fail("ordre")
    else:
        form.body["position"] = int(position)
    objectives = [line.strip() for line in form.value("objectifs").splitlines() if line.strip()]
    if len(objectives) > 8 or any(len(line) > 300 for line in objectives):
        form.fail("objectifs")
    form.body["objectives"] = objectives
    form.body["tags"] = tags_of(form.value("mots_cles"))
    if len(form.body["tags"]) > 50:
        form.fail("mots_cles")
    _publication(form, (current.publication, current.publish_at) if current is not None else None)
    return form


def publication_values(publication: m.Publication, publish_at: datetime | None) -> dict[str, str]:
    names = {state: name for name, state in PUBLICATIONS.items()}
    values = {"publication": names[publication]}
    if publication is m.Publication.SCHEDULED and publish_at is not None:
        local = publish_at.astimezone(PARIS)
        values |= {"publication_date": local.date().isoformat(), "publication_heure": f"{local:%H:%M}"}
    return values


def session_values(session: m.WebinarSession) -> dict[str, str]:
    """A stored session as its form shows it."""
    local = session.scheduled_at.astimezone(PARIS)
    values = {
        "titre": session.title, "date": local.date().isoformat(), "heure": f"{local:%H:%M}",
        "duree": str(session.duration_minutes), "resume": session.summary, "lien": session.join_url or "",
        "statut": "cancelled" if session.status is m.SessionStatus.CANCELLED else "upcoming",
        "motif": session.cancel_reason,
        "texte": session.body_md, "mots_cles": ", ".join(session.tags),
    }  # fmt: skip
    for index, speaker in enumerate(session.speakers[:MAX_SPEAKERS]):
        values |= {
            f"intervenant-{index}-nom": speaker.get("name", ""),
            f"intervenant-{index}-organisation": speaker.get("organisation", ""),
            f"intervenant-{index}-role": speaker.get("role", "guest"),
        }
    return values | publication_values(session.publication, session.publish_at)


def module_values(module: m.Module) -> dict[str, str]:
    """A stored module as its form shows it."""
    values = {
        "titre": module.title, "resume": module.summary, "description": module.description_md,
        "avertissement": module.notice, "public": module.audience, "prerequis": module.prerequisites,
        "ordre": str(module.position), "objectifs": "\n".join(module.objectives), "mots_cles": ", ".join(module.tags),
    }  # fmt: skip
    return values | publication_values(module.publication, module.publish_at)
