"""End to end, in Debian's Chromium (headless, driven by Playwright) against a live server: a visitor plays a
replay, a learner resumes on another device, an admin uploads through a broken connection and a reload and
publishes, and every page answers the keyboard. Screenshots of the main pages go to build/screenshots/
(`bench/screenshots` refreshes docs/screenshots/ with them).

Debian's Chromium is required: without it the run stops before the first test and says how to install it
(tests/conftest.py), rather than skipping these tests."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from pathlib import Path

import feedparser
import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Route, expect

from learning.admin.commands import create_admin
from tests.helpers.accounts import PASSWORD
from tests.helpers.catalog import SERIES
from tests.helpers.database import REPOSITORY, sql
from tests.helpers.media import make_video
from tests.web.browsing import (
    Live,
    keyboard_reach,
    media_reaches,
    off_loop,
    play_until,
    shot,
    sign_in,
    sign_up,
)  # fmt: skip
from tests.web.conftest import MODULE, TEXT_LESSON, VIDEO_LESSON, new_email

FIRST_SESSION = "2019-01-lancement-du-cycle"
pytestmark = pytest.mark.browser


# --- a visitor ------------------------------------------------------------------------------------------
def test_a_visitor_browses_the_catalog_and_plays_a_replay(context: BrowserContext, live: Live) -> None:
    page = context.new_page()
    page.goto("/")
    expect(page.get_by_role("heading", name="Le cours")).to_be_visible()
    shot(page, "accueil")
    page.get_by_role("link", name="L’innovation territoriale en actions ! — les webinaires 2019", exact=True).click()
    page.get_by_role("link", name="Lancement : « L’innovation territoriale en actions ! »").first.click()
    expect(page).to_have_url(f"{live.base}/webinaires/{SERIES}/{FIRST_SESSION}")
    media = page.locator("video#lecteur")
    expect(media).to_be_visible()
    play_until(page, 1)
    tracks = media.evaluate("v => Array.from(v.textTracks).map(t => t.kind)")
    assert tracks == ["captions", "chapters"]
    chapter = json.loads((REPOSITORY / "media" / "webinar-2019-01.chapters.json").read_text())["chapters"][1]
    chapter_button = page.get_by_role("button", name=re.compile(re.escape(chapter["title"])))
    chapter_button.click()
    media_reaches(page, f"time >= {chapter['startTime']}")
    expect(chapter_button).to_have_attribute("aria-current", "true")  # the chapter playing is highlighted
    media.evaluate("v => v.pause()")
    # The transcript: a cue's time seeks there, and the cue being said is the one highlighted.
    cues = page.locator("ol.cues li")
    third = cues.nth(2)
    third.get_by_role("button").click()
    media_reaches(page, f"time >= {third.get_attribute('data-start')}")
    media.evaluate("v => v.pause()")
    expect(third).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator("ol.cues li.current")).to_have_count(1)
    expect(chapter_button).not_to_have_attribute("aria-current", "true")  # back before that chapter
    shot(page, "webinaire")


@pytest.mark.parametrize("size", ["ordinateur", "telephone"])
def test_a_visitor_subscribes_from_a_card_with_the_address_or_the_qr_code(
    browser: Browser, live: Live, size: str
) -> None:
    phone = size == "telephone"
    context = browser.new_context(
        base_url=live.base, locale="fr-FR", is_mobile=phone, has_touch=phone,
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
    )  # fmt: skip
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name=re.compile(r"^S’abonner à « Comprendre la co-construction")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("S’abonner à ce module")
        for app in ("Apple Podcasts", "AntennaPod", "Pocket Casts", "gPodder", "Podcast Addict", "Spotify"):
            expect(page.get_by_text(app, exact=False).first).to_be_visible()
        address = page.get_by_role("textbox", name="Adresse du flux")
        feed = address.input_value()
        assert feed == f"{live.base}/feeds/modules/{MODULE}.xml"
        # The address is shown whole: nothing cut, nothing to scroll, and the page itself does not overflow.
        assert address.evaluate("a => a.scrollHeight <= a.clientHeight && a.scrollWidth <= a.clientWidth")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name="Copier l’adresse").click()
        expect(page.locator(".copy-status")).to_have_text("Copié dans le presse-papiers.")
        assert page.evaluate("navigator.clipboard.readText()") == feed
        assert feedparser.parse(httpx.get(feed).content).feed.title
        # A phone's camera reads the QR code drawn on the screen as the same address.
        picture = Image.open(io.BytesIO(page.locator("svg.qr-code").screenshot()))
        assert [found.text for found in zxingcpp.read_barcodes(picture)] == [feed]
        # podcast:// with no app to take it: the page says so instead of doing nothing.
        page.get_by_role("link", name="ouvrir directement dans l’application").click()
        expect(page.locator(".open-status")).to_contain_text("Aucune application de podcast ne s’est ouverte")
        shot(page, f"abonnement-{size}")
    finally:
        context.close()


def test_on_a_phone_the_navigation_folds_behind_a_menu_button(browser: Browser, live: Live) -> None:
    phone = browser.new_context(
        base_url=live.base, locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = phone.new_page()
        page.goto(f"/modules/{MODULE}")
        menu = page.get_by_role("button", name="Menu")
        sign_in_link = page.get_by_role("link", name="Se connecter")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(sign_in_link).to_be_hidden()
        header = page.locator(".site-header").bounding_box()
        assert header is not None
        assert header["height"] < 90  # was 170 px: the title and the menu button on one line
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(sign_in_link).to_be_visible()
        expect(page.get_by_role("searchbox", name="Rechercher dans le catalogue")).to_be_visible()
        page.keyboard.press("Escape")
        expect(sign_in_link).to_be_hidden()
        expect(menu).to_be_focused()
    finally:
        phone.close()
    desktop = browser.new_context(base_url=live.base, locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        page = desktop.new_page()
        page.goto("/")
        expect(page.get_by_role("link", name="Se connecter")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    finally:
        desktop.close()


@pytest.mark.parametrize("path", ["/aide", "/modules/module-inconnu", f"/webinaires/{SERIES}/seance-inconnue"])
def test_a_browser_lost_on_the_site_reads_a_french_page_with_a_way_back(context: BrowserContext, path: str) -> None:
    page = context.new_page()
    answer = page.goto(path)
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    page.get_by_role("link", name="Catalogue").first.click()
    expect(page.get_by_role("heading", name="Le cours")).to_be_visible()


def test_pages_are_readable_without_javascript(browser: Browser, live: Live) -> None:
    context = browser.new_context(base_url=live.base, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("link", name="Module 1 — Comprendre la co-construction territoriale").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Comprendre la co-construction territoriale")
        page.locator(f'a[href="/modules/{MODULE}/lecons/{TEXT_LESSON}"]').click()
        expect(page.locator("article.prose p").first).to_be_visible()
        assert len(page.locator("article.prose").inner_text()) > 500
        page.goto(f"/modules/{MODULE}/lecons/{VIDEO_LESSON}")
        expect(page.get_by_role("link", name="Télécharger le fichier")).to_be_visible()
        expect(page.locator(".copy-button")).to_have_count(0)  # nothing that needs a script is offered
        shot(page, "lecon-sans-javascript")
    finally:
        context.close()


@pytest.mark.parametrize(
    "path",
    ["/", f"/modules/{MODULE}", f"/modules/{MODULE}/lecons/{VIDEO_LESSON}", f"/webinaires/{SERIES}/{FIRST_SESSION}"],
)
def test_the_keyboard_reaches_every_control(context: BrowserContext, path: str) -> None:
    page = context.new_page()
    page.goto(path)
    page.wait_for_load_state("networkidle")
    reached, expected = keyboard_reach(page)
    assert expected
    assert reached >= expected, f"never reached with Tab: {sorted(expected - reached)}"


# --- a learner --------------------------------------------------------------------------------------------
def _saved_position(live: Live, context: BrowserContext, lesson_id: str) -> float:
    cookies = {cookie["name"]: cookie["value"] for cookie in context.cookies()}
    response = httpx.get(f"{live.base}/api/v1/me/progress/lessons/{lesson_id}", cookies=cookies)
    assert response.status_code == 200, response.text
    position: float = response.json()["resume_at_seconds"]
    return position


def test_a_learner_enrolls_plays_and_resumes_on_another_device(
    browser: Browser, context: BrowserContext, live: Live
) -> None:
    email = new_email("navigateur")
    page = context.new_page()
    sign_up(page, email)
    page.goto("/")
    page.get_by_role("link", name="Module 1 — Comprendre la co-construction territoriale").click()
    page.get_by_role("button", name="S’inscrire à ce module").click()
    expect(page.get_by_role("status").filter(has_text="vous êtes inscrit à ce module")).to_be_visible()
    expect(page.get_by_text("Vous suivez ce module")).to_be_visible()
    page.get_by_role("link", name="La co-construction territoriale en quelques mots").click()
    media = page.locator("video#lecteur")
    lesson_id = media.get_attribute("data-lesson-id")
    assert lesson_id
    state = page.locator("[data-lesson-state]")
    expect(state).to_contain_text("Pas commencée")
    expect(state.locator("progress")).to_have_attribute("value", "0.0")
    play_until(page, 6)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/me/progress/events") and r.status == 200):
        media.evaluate("v => v.pause()")
    # What was watched shows under the player without reloading the page.
    expect(state).to_contain_text("En cours")
    expect(state.locator("progress")).not_to_have_attribute("value", "0.0")
    stopped = media.evaluate("v => v.currentTime")
    deadline = time.monotonic() + 15
    while (saved := _saved_position(live, context, lesson_id)) < 5 and time.monotonic() < deadline:
        time.sleep(0.2)  # waiting for the last batch, not a timing assertion
    assert abs(saved - stopped) < 1.5

    page.reload()
    media_reaches(page, f"Math.abs(time - {saved}) < 0.5")
    expect(page.locator("[data-resume-note]")).to_contain_text("Reprise à 0:0")
    shot(page, "lecon")

    page.goto(f"/modules/{MODULE}")
    expect(page.get_by_role("link", name="Reprendre", exact=True)).to_be_visible()
    expect(page.locator("li.lesson-in_progress")).to_contain_text("En cours")
    expect(page.get_by_text("1 en cours")).to_be_visible()
    shot(page, "module")

    # Another device, a phone: the home page offers « Reprendre », which opens the lesson where it stopped.
    other = browser.new_context(
        base_url=live.base, locale="fr-FR", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        phone = other.new_page()
        sign_in(phone, email)
        phone.goto("/")
        resume = phone.get_by_role("region", name="Reprendre")
        expect(resume).to_contain_text("Module 1")
        resume.get_by_role("link", name="La co-construction territoriale en quelques mots").click()
        media_reaches(phone, f"Math.abs(time - {saved}) < 0.5")
        # A text lesson on the phone: « Marquer comme terminée » is on screen without scrolling, and confirmed.
        phone.goto(f"/modules/{MODULE}/lecons/{TEXT_LESSON}")
        done = phone.get_by_role("button", name="Marquer comme terminée")
        expect(done).to_be_in_viewport()
        assert phone.evaluate("() => document.documentElement.scrollHeight > 2 * window.innerHeight")  # a long page
        shot(phone, "lecon-texte-telephone")
        done.click()
        expect(phone.get_by_role("status").filter(has_text="marquée comme terminée")).to_be_visible()
        phone.goto(f"/modules/{MODULE}")
        expect(phone.get_by_text("1 leçon terminée sur")).to_be_visible()
    finally:
        other.close()

    page.goto("/compte")
    expect(page.get_by_role("button", name="Révoquer le jeton")).to_be_hidden()  # no token yet: nothing to revoke
    expect(page.get_by_role("button", name="Copier le jeton")).to_be_hidden()
    page.get_by_role("button", name="Créer un jeton").click()
    token = page.locator("#token-value")
    expect(token).not_to_have_value("")
    status = page.locator("[data-feed-token] [role=status]").first
    expect(status).to_contain_text("Nouveau jeton créé")
    expect(status).not_to_contain_text("L’ancien ne fonctionne plus")  # there was none
    private_feed = page.get_by_label(
        "Flux privé du module « Comprendre la co-construction territoriale »"
    ).input_value()
    assert f"/modules/{MODULE}.xml" in private_feed
    assert httpx.get(private_feed).status_code == 200
    shot(page, "compte")
    page.get_by_role("button", name="Renouveler le jeton").click()
    expect(status).to_contain_text("L’ancien ne fonctionne plus")  # a rotation: the first token stopped working
    expect(page.locator("#private-feed-1")).not_to_have_value(private_feed)
    rotated = page.locator("#private-feed-1").input_value()
    assert httpx.get(private_feed).status_code == 410
    assert httpx.get(rotated).status_code == 200
    page.get_by_role("button", name="Révoquer le jeton").click()
    expect(page.locator("[data-token-summary]")).to_have_text("Vous n’avez pas de jeton actif.")
    expect(page.get_by_role("button", name="Révoquer le jeton")).to_be_hidden()
    assert httpx.get(rotated).status_code == 410  # revoked: apps stop asking

    # Unenrolling asks first; « Non » changes nothing, « Oui » says it is done.
    page.goto(f"/modules/{MODULE}")
    page.get_by_role("link", name="Se désinscrire de ce module…").click()
    page.get_by_role("link", name="Non, continuer le module").click()
    expect(page.get_by_text("Vous suivez ce module")).to_be_visible()
    page.get_by_role("link", name="Se désinscrire de ce module…").click()
    page.get_by_role("button", name="Oui, me désinscrire").click()
    expect(page.get_by_role("status").filter(has_text="Vous n’êtes plus inscrit à ce module")).to_be_visible()


# --- an admin -------------------------------------------------------------------------------------------------
SESSION = {
    "slug": "seance-supplementaire",
    "title": "Séance supplémentaire : retours d’expérience",
    "scheduled_at": "2019-12-19T11:00:00+01:00",
    "summary": "Des territoires pilotes racontent leur première année d’alliance.",
}


class Cutter:
    """Breaks PATCH requests on demand, as a dropped connection would."""

    def __init__(self) -> None:
        self.patches = 0
        self.creations = 0
        self.cut_from: int | None = None  # cut every PATCH from this one on
        self.cut_once: set[int] = set()
        self.offsets: list[int] = []  # what HEAD answered

    def __call__(self, route: Route) -> None:
        if route.request.method == "POST":
            self.creations += 1
        if route.request.method == "PATCH":
            self.patches += 1
            if self.patches in self.cut_once or (self.cut_from is not None and self.patches >= self.cut_from):
                route.abort("connectionreset")
                return
        route.continue_()


def test_an_admin_uploads_through_a_broken_connection_and_publishes(
    context: BrowserContext, live: Live, tmp_path: Path
) -> None:
    admin = new_email("regie")
    off_loop(asyncio.run, create_admin(live.settings, email=admin, password=PASSWORD))
    token = httpx.post(f"{live.base}/api/v1/auth/login", json={"email": admin, "password": PASSWORD}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    created = httpx.post(f"{live.base}/api/v1/admin/webinars/{SERIES}/sessions", json=SESSION, headers=bearer)
    assert created.status_code == 201, created.text
    source = make_video(tmp_path / "retours-experience.mp4", seconds=6, width=640, height=360, fps=25)
    chunk = 16 * 1024
    assert source.stat().st_size > 5 * chunk

    page = context.new_page()
    sign_in(page, admin)
    page.goto("/admin/")
    row = page.locator(f"#session-{SERIES}-{SESSION['slug']}")
    expect(row).to_contain_text("Brouillon")
    expect(row).to_contain_text("Aucun replay")
    row.get_by_role("link", name=re.compile("Envoyer un replay")).click()
    expect(page.get_by_label("Pour")).to_have_value(f"session:{SERIES}/{SESSION['slug']}")

    cutter = Cutter()
    cutter.cut_once = {2}  # the second PATCH breaks: the page resumes by itself
    cutter.cut_from = 4  # from the fourth on the connection is gone: the admin reloads the page
    page.route("**/api/v1/admin/uploads/**", cutter)
    page.on("response", lambda r: r.request.method == "HEAD" and cutter.offsets.append(int(r.headers["upload-offset"])))
    page.locator("[data-upload-form]").evaluate(f"form => form.dataset.chunkBytes = '{chunk}'")
    page.get_by_label("Fichier vidéo ou audio").set_input_files(str(source))
    page.get_by_role("button", name="Envoyer", exact=True).click()
    status = page.locator("[data-status]")
    # Second PATCH cut: HEAD, then on from its offset; fourth and fifth cut: retried after 1 s, then 2 s.
    expect(status).to_contain_text("Connexion perdue\u00a0: nouvelle tentative dans 2\u00a0s")
    assert cutter.patches == 5
    assert cutter.offsets[:2] == [chunk, 2 * chunk]  # what HEAD answered after each cut
    assert page.locator("progress[data-progress]").evaluate("bar => bar.value") > 0
    shot(page, "envoi-interrompu")

    cutter.cut_from = None
    page.reload()
    pending = page.locator("[data-pending]")
    expect(pending).to_contain_text("retours-experience.mp4")
    page.locator("[data-upload-form]").evaluate(f"form => form.dataset.chunkBytes = '{chunk}'")
    status.evaluate(
        """line => { window.statusLog = [];
             new MutationObserver(() => window.statusLog.push(line.textContent)).observe(line, {childList: true}); }"""
    )
    page.get_by_label("Fichier vidéo ou audio").set_input_files(str(source))  # the same file: it resumes
    expect(status).to_contain_text("Replay prêt et rattaché", timeout=90_000)
    statuses = page.evaluate("() => window.statusLog")
    resumed_at = 100 * 2 * chunk // source.stat().st_size
    assert f"Reprise de l’envoi à {resumed_at}\u00a0%." in statuses
    assert cutter.offsets[-1] == 2 * chunk  # after the reload, HEAD: two chunks had arrived
    assert cutter.creations == 1  # resumed, not started again
    shot(page, "envoi")

    page.goto("/admin/")
    row = page.locator(f"#session-{SERIES}-{SESSION['slug']}")
    expect(row.locator(".replay-state")).to_contain_text("Prêt")
    row.get_by_role("button", name=re.compile("^Publier")).click()
    expect(page.get_by_role("status")).to_have_text("C’est publié.")
    expect(page.locator(f"#session-{SERIES}-{SESSION['slug']}")).to_contain_text("Publié")

    detail = httpx.get(f"{live.base}/api/v1/webinars/{SERIES}/sessions/{SESSION['slug']}").json()
    assert httpx.get(detail["replay"]["url"]).content == source.read_bytes()
    feed = feedparser.parse(httpx.get(f"{live.base}/feeds/webinars/{SERIES}.xml").content)
    title = "Séance supplémentaire\u00a0: retours d’expérience"  # the feed's text has French typography
    entry = next(entry for entry in feed.entries if entry.title == title)
    enclosure = entry.enclosures[0]
    assert "retours-experience" in enclosure.href
    assert httpx.head(enclosure.href).status_code == 200

    _some_downloads(live, detail["replay"]["id"])
    page.goto("/admin/")
    shot(page, "administration")
    page.locator(f"#session-{SERIES}-{SESSION['slug']} td a[href^='/admin/telechargements/']").click()
    expect(page.locator("svg.chart rect.bar")).to_have_count(30)
    shot(page, "telechargements")


def _some_downloads(live: Live, asset_id: str) -> None:
    """A few counted downloads over the last days, for the chart (counting itself is tested in tests/media)."""
    off_loop(
        sql,
        live.settings.require_database_url(),
        "INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day) "
        "SELECT $1::uuid, md5(random()::text || n), now(), now(), 'AntennaPod', current_date - days_ago "
        "FROM unnest($2::int[], $3::int[]) AS t(days_ago, downloads), generate_series(1, downloads) AS n",
        asset_id,
        [0, 1, 2, 5, 9, 14],
        [4, 7, 3, 9, 2, 5],
    )
