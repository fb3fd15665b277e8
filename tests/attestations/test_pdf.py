"""The PDF itself: a name in any script the fonts cover reads back; no time is invented for text lessons."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pypdf
import zxingcpp
from PIL import Image, ImageDraw
from pypdf.generic import ContentStream

from learning.attestations.numbers import new_number
from learning.attestations.pdf import printable, render_pdf
from learning.db import models as m

ISSUED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
URL = "http://testserver.local/attestations/"


def _attestation(name: str, *, media_lessons: int, seconds: float) -> m.Attestation:
    module = {
        "slug": "un-module", "title": "Un module d’essai", "notice": "Reconstitution pédagogique : un essai.",
        "enrolled_at": (ISSUED - timedelta(days=10)).isoformat(), "completed_at": ISSUED.isoformat(),
        "measured_seconds": seconds, "media_lessons": media_lessons,
    }  # fmt: skip
    return m.Attestation(
        id=uuid.uuid4(), number=new_number(), user_id=uuid.uuid4(), subject="module:un-module", learner_name=name,
        title=module["title"], modules=[module], enrolled_at=ISSUED - timedelta(days=10), completed_at=ISSUED,
        measured_seconds=seconds, issued_at=ISSUED,
    )  # fmt: skip


def _text(document: bytes) -> str:
    return re.sub(r"\s+", " ", pypdf.PdfReader(io.BytesIO(document)).pages[0].extract_text())


def test_a_name_outside_the_latin_letters_reads_back() -> None:
    for name in ("Ольга Петрова", "Γιώργος Παπαδόπουλος", "Łukasz Żółć"):
        attestation = _attestation(name, media_lessons=1, seconds=125)
        text = _text(render_pdf(attestation, URL + attestation.number))
        assert name in text
        assert attestation.number in text


def test_the_dates_and_the_measured_time_are_said_in_french() -> None:
    attestation = _attestation("Anne Roy", media_lessons=2, seconds=3725.9)
    text = _text(render_pdf(attestation, URL + attestation.number))
    assert "Inscription le 27 novembre 2026 ; module terminé le 7 décembre 2026." in text
    assert "Temps d’écoute et de visionnage mesuré : 1 h 02 min." in text
    assert "Délivrée le 7 décembre 2026." in text


def test_no_time_is_invented_for_text_lessons() -> None:
    attestation = _attestation("Anne Roy", media_lessons=0, seconds=0)
    text = _text(render_pdf(attestation, URL + attestation.number))
    assert "mesuré : aucun (leçons écrites : la lecture n’est pas chronométrée)" in text


def test_the_qr_code_opens_the_public_page() -> None:
    """The QR code's rectangles, drawn again from the PDF's own content stream, read back as the page's address."""
    attestation = _attestation("Anne Roy", media_lessons=1, seconds=60)
    url = URL + attestation.number
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(attestation, url)))
    page = reader.pages[0]
    rectangles = [
        [float(value) for value in operands]
        for operands, operator in ContentStream(page.get_contents(), reader).operations
        if operator == b"re"
    ]
    scale, height = 4, float(page.mediabox.height)
    image = Image.new("L", (int(float(page.mediabox.width) * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, width, tall in rectangles:
        (left, right), (bottom, top) = sorted((x, x + width)), sorted((y, y + tall))
        draw.rectangle([left * scale, (height - top) * scale, right * scale - 1, (height - bottom) * scale - 1], fill=0)
    assert [code.text for code in zxingcpp.read_barcodes(image)] == [url]


def test_only_names_the_fonts_can_print_are_printable() -> None:
    assert printable("Ольга Петрова")
    assert printable("Élise d’Arc")
    assert not printable("山田太郎")
    assert not printable("Anne\u0000Roy")
