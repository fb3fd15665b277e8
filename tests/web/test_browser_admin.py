"""The admin pages in Chromium, at desktop and phone sizes: an admin creates a session through the form, uploads
its replay, publishes it and unpublishes it (asked first, with the keyboard), each message shown where the admin
is; no table widens the page on a phone, and the downloads chart's text stays readable."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from learning.admin.commands import create_admin
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES
from tests.helpers.media import make_video
from tests.web.browsing import Live, off_loop, shot, sign_in
from tests.web.conftest import new_email

pytestmark = pytest.mark.browser

SIZES = {"bureau": {"width": 1280, "height": 900}, "telephone": {"width": 390, "height": 844}}
# The smallest size, in CSS pixels, any text of the chart is drawn at on the screen.
CHART_TEXT_PX = """() => { const svg = document.querySelector("svg.chart"); const scale = svg.getScreenCTM().a;
  return Array.from(svg.querySelectorAll("text")).filter(t => getComputedStyle(t).display !== "none")
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale); }"""


def _no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


@pytest.mark.parametrize("size", list(SIZES))
def test_an_admin_creates_a_session_uploads_its_replay_and_publishes_it(
    context: BrowserContext, live: Live, tmp_path: Path, size: str
) -> None:
    admin = new_email("regie")
    off_loop(asyncio.run, create_admin(live.settings, email=admin, password=PASSWORD))
    page = context.new_page()
    page.set_viewport_size(SIZES[size])
    sign_in(page, admin)
    page.goto("/admin/")
    _no_sideways_scroll(page)

    # The form: refused first (no title), the message next to the field and the typed values kept.
    page.get_by_role("link", name="Nouvelle séance").click()
    page.get_by_label("Série").select_option(SERIES)
    page.get_by_label("Date", exact=True).fill("2027-01-12")
    page.get_by_label("Heure de début").fill("11:00")
    page.get_by_role("button", name="Enregistrer la séance").click()
    expect(page.locator("#titre-erreur")).to_have_text("Donnez un titre (300\u00a0caractères au plus).")
    expect(page.locator("#erreurs")).to_be_focused()
    expect(page.get_by_label("Date", exact=True)).to_have_value("2027-01-12")
    page.get_by_label("Titre").fill(f"Bilan {size}")
    page.get_by_label("Nom de l’intervenant 1").fill("Une animatrice")
    page.get_by_label("Durée").fill("75")
    shot(page, f"admin-seance-formulaire-{size}")
    page.get_by_role("button", name="Enregistrer la séance").click()

    slug = f"2027-01-bilan-{size}"
    row = page.locator(f"#session-{SERIES}-{slug}")
    message = row.get_by_role("status")
    expect(message).to_have_text("La séance est créée\u00a0: envoyez son replay depuis sa ligne.")
    expect(message).to_be_in_viewport()
    expect(message).to_be_focused()
    expect(row).to_contain_text("Brouillon")
    _no_sideways_scroll(page)

    # The replay, through the resumable upload page.
    row.get_by_role("link", name=re.compile("Envoyer un replay")).click()
    expect(page.get_by_label("Pour")).to_have_value(f"session:{SERIES}/{slug}")
    source = make_video(tmp_path / f"bilan-{size}.mp4", seconds=2.0)
    page.get_by_label("Fichier vidéo ou audio").set_input_files(str(source))
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.locator("[data-status]")).to_contain_text("Replay prêt et rattaché", timeout=90_000)

    page.goto("/admin/")
    row = page.locator(f"#session-{SERIES}-{slug}")
    expect(row.locator(".replay-state")).to_contain_text("Prêt")
    row.get_by_role("button", name=re.compile("^Publier")).click()
    message = page.locator(f"#session-{SERIES}-{slug}").get_by_role("status")
    expect(message).to_have_text("C’est publié.")
    expect(message).to_be_in_viewport()
    expect(page.locator(f"#session-{SERIES}-{slug}")).to_contain_text("Publié")
    assert page.request.get(f"/webinaires/{SERIES}/{slug}").status == 200
    _no_sideways_scroll(page)
    shot(page, f"admin-publie-{size}")

    # Unpublishing asks first; the keyboard does it.
    page.locator(f"#session-{SERIES}-{slug}").get_by_role("link", name=re.compile("^Dépublier")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dépublier")
    assert page.request.get(f"/webinaires/{SERIES}/{slug}").status == 200  # nothing done yet
    confirm = page.get_by_role("button", name="Oui, dépublier")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    message = page.locator(f"#session-{SERIES}-{slug}").get_by_role("status")
    expect(message).to_contain_text("C’est dépublié")
    expect(message).to_be_in_viewport()
    assert page.request.get(f"/webinaires/{SERIES}/{slug}").status == 404

    # The downloads page: its tables fit, the chart's text is readable.
    page.locator(f"#session-{SERIES}-{slug} a[href^='/admin/telechargements/']").click()
    expect(page.locator("svg.chart rect.bar")).to_have_count(30)
    sizes = page.evaluate(CHART_TEXT_PX)
    assert len(sizes) >= 3
    assert min(sizes) >= 10, sizes
    _no_sideways_scroll(page)
    shot(page, f"admin-telechargements-{size}")
