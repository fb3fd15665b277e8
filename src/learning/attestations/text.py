"""What an attestation says, in French, written once for its PDF, its public page and its credential."""

from __future__ import annotations

from datetime import UTC, datetime

from learning.db import models as m

PLATFORM = "Les alliances qui changent les territoires"  # the platform's name, as its pages give it
MEASURED = "temps d’écoute et de visionnage mesuré"
NO_MEASURE = "aucun (leçons écrites : la lecture n’est pas chronométrée)"
MEASURED_NOTE = (
    "Le temps d’écoute et de visionnage est mesuré par le lecteur de la plateforme : chaque passage d’une vidéo "
    "ou d’un audio compte une fois, même regardé plusieurs fois ; la lecture des leçons écrites n’est pas "
    "chronométrée."
)


def is_course(attestation: m.Attestation) -> bool:
    return attestation.subject == m.COURSE_SUBJECT


def notices(attestation: m.Attestation) -> list[str]:
    """The modules' own notices (what the content is: for the shipped course, a reconstitution), each once."""
    found: list[str] = []
    for module in attestation.modules:
        notice = str(module.get("notice") or "")
        if notice and notice not in found:
            found.append(notice)
    return found


def achievement_description(attestation: m.Attestation) -> str:
    if is_course(attestation):
        count = len(attestation.modules)
        return f"Suivi complet des {count} modules publiés du cours « {PLATFORM} » sur cette plateforme."
    return f"Suivi complet du module « {attestation.title} » du cours « {PLATFORM} » sur cette plateforme."


def criteria(attestation: m.Attestation) -> str:
    if is_course(attestation):
        return "Chaque module publié du cours terminé, selon la règle de complétion de la plateforme."
    return "Le module terminé, selon la règle de complétion de la plateforme (toutes ses leçons terminées)."


def duration_fr(seconds: float) -> str:
    """« 1 h 05 min », « 12 min », « 40 s » (whole seconds; what was measured, not rounded up)."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if minutes < 10 and secs else f"{minutes} min"
    return f"{secs} s"


def measured_fr(seconds: float, has_media: bool) -> str:
    """The measured time as the attestation says it: none is invented for text lessons."""
    return duration_fr(seconds) if has_media else NO_MEASURE


def instant(moment: datetime) -> str:
    """An ISO 8601 instant in UTC (``2026-12-07T04:30:00Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
