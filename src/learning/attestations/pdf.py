"""The attestation as a PDF (A4, French): fpdf2 (pure Python) with the DejaVu Sans fonts shipped in ``fonts/``
(their licence beside them), and a QR code (segno) of the public page that says whether it holds.

Rendering holds the GIL for a few milliseconds and reads the font files: callers run it off the event loop
(``anyio.to_thread.run_sync``)."""

from __future__ import annotations

import functools
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fpdf2's own dependency
from fpdf import FPDF

from learning.attestations.text import (
    MEASURED,
    MEASURED_NOTE,
    PLATFORM,
    is_course,
    measured_fr,
    notices,
)
from learning.db import models as m
from learning.lib.dates import date_fr
from learning.lib.typography import french_text

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"
NAME_FAMILY = "DejaVuName"  # the full bold font, for a name the Latin subset cannot print
MARGIN = 20.0  # mm
QR_SIZE = 32.0  # mm
INK = (33, 37, 41)
MUTED = (90, 96, 102)


def render_pdf(attestation: m.Attestation, verify_url: str) -> bytes:
    """The PDF of ``attestation``; its QR code and the line beside it give ``verify_url``."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creator(PLATFORM)
    pdf.set_title(f"Attestation de suivi n° {attestation.number}")
    pdf.set_lang("fr")
    pdf.set_creation_date(attestation.issued_at)
    # The Latin subsets whenever they have the glyphs; the full fonts (five times slower to parse) only for
    # what needs them: a name in another script gets the full bold font for its one line.
    latin = _coverage("-Latin")
    suffix = "-Latin" if all(_covered(text, latin) for text in _texts(attestation)) else ""
    pdf.add_font(FAMILY, "", FONTS / f"DejaVuSans{suffix}.ttf")
    pdf.add_font(FAMILY, "B", FONTS / f"DejaVuSans-Bold{suffix}.ttf")
    name_family = FAMILY
    if suffix and not _covered(attestation.learner_name, latin):
        pdf.add_font(NAME_FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        name_family = NAME_FAMILY
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_page()
    page = _Page(pdf)
    page.line(PLATFORM, 11, color=MUTED, gap=8)
    page.line("Attestation de suivi", 26, bold=True, gap=10)
    page.line(f"La plateforme « {PLATFORM} » atteste que", 12, gap=4)
    page.line(attestation.learner_name, 20, bold=True, gap=4, family=name_family)
    if is_course(attestation):
        page.line(f"a suivi en entier les {len(attestation.modules)} modules publiés du cours :", 12, gap=6)
    else:
        page.line("a suivi en entier le module :", 12, gap=4)
    for module in attestation.modules:
        page.module(module, compact=is_course(attestation))
    if is_course(attestation):
        has_media = any(int(module.get("media_lessons", 0)) for module in attestation.modules)
        page.line(f"Au total, {MEASURED} : {measured_fr(attestation.measured_seconds, has_media)}.", 11, gap=6)
    page.line(MEASURED_NOTE, 9, color=MUTED, gap=6)
    page.line(f"Délivrée le {date_fr(attestation.issued_at)}.", 11, gap=1)
    page.line(f"Numéro d’attestation : {attestation.number}", 12, bold=True, gap=6)
    _verification(pdf, verify_url, page.width)
    for notice in notices(attestation):
        page.line(notice, 8, color=MUTED, gap=2)
    return bytes(pdf.output())


def printable(text: str) -> bool:
    """Every character of ``text`` has its glyph in the PDF's fonts, regular and bold (and none is a control
    character): what a learner's name must be."""
    return all(ord(char) in _coverage("") and unicodedata.category(char)[0] != "C" for char in text)


def _texts(attestation: m.Attestation) -> list[str]:
    """What the attestation prints besides the learner's name (and the fixed French words, all Latin)."""
    titles = [str(module["title"]) for module in attestation.modules]
    return [attestation.title, *titles, *notices(attestation)]


def _covered(text: str, coverage: frozenset[int]) -> bool:
    return all(ord(char) in coverage for char in french_text(text))


@functools.cache
def _coverage(suffix: str) -> frozenset[int]:
    """The code points both the regular and the bold font have (read once per process)."""
    covered: list[frozenset[int]] = []
    for name in ("DejaVuSans", "DejaVuSans-Bold"):
        with TTFont(FONTS / f"{name}{suffix}.ttf", lazy=True) as font:
            covered.append(frozenset(font.getBestCmap()))
    return covered[0] & covered[1]


class _Page:
    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.width = pdf.w - 2 * MARGIN

    def line(
        self,
        text: str,
        size: float,
        *,
        bold: bool = False,
        gap: float = 2.0,
        color: tuple[int, int, int] = INK,
        family: str = FAMILY,
    ) -> None:
        """A paragraph, typographed (no-break spaces before « : », inside « »)."""
        self.pdf.set_font(family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        self.pdf.multi_cell(self.width, size * 0.5, french_text(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(gap)

    def module(self, module: dict[str, Any], *, compact: bool) -> None:
        """A module attested: its title, its dates and the time measured on its media (one line each, or, for
        the course's list, the title and one line)."""
        enrolled = date_fr(datetime.fromisoformat(module["enrolled_at"]))
        completed = date_fr(datetime.fromisoformat(module["completed_at"]))
        measured = measured_fr(float(module["measured_seconds"]), int(module["media_lessons"]) > 0)
        if compact:
            self.line(f"« {module['title']} »", 12, bold=True, gap=1)
            self.line(f"Inscription le {enrolled}, terminé le {completed} ; écoute et visionnage : {measured}.", 10,
                      gap=3)  # fmt: skip
            return
        self.line(f"« {module['title']} »", 14, bold=True, gap=3)
        self.line(f"Inscription le {enrolled} ; module terminé le {completed}.", 11, gap=1)
        self.line(f"{MEASURED[0].upper()}{MEASURED[1:]} : {measured}.", 11, gap=6)


def _verification(pdf: FPDF, url: str, width: float) -> None:
    """The QR code of the public page, and its address beside it."""
    top = pdf.get_y()
    if top + QR_SIZE > pdf.h - MARGIN:
        pdf.add_page()
        top = pdf.get_y()
    _qr(pdf, url, MARGIN, top, QR_SIZE)
    pdf.set_xy(MARGIN + QR_SIZE + 6, top + 4)
    pdf.set_font(FAMILY, "", 10)
    pdf.set_text_color(*INK)
    text = french_text("Pour vérifier que cette attestation est authentique et n’a pas été révoquée :")
    pdf.multi_cell(width - QR_SIZE - 6, 5, text, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "B", 10)
    pdf.multi_cell(width - QR_SIZE - 6, 5, url, link=url, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top + QR_SIZE + 6)


def _qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """A QR code drawn as vector rectangles (a run of dark modules on a row is one rectangle)."""
    code = segno.make_qr(text, error="m")
    border = 2
    rows = list(code.matrix)
    module = size / (len(rows) + 2 * border)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + (border + start) * module, y + (border + r) * module, (c - start) * module, module,
                         style="F")  # fmt: skip
            else:
                c += 1
