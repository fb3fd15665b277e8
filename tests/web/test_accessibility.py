"""axe-core finds no violation of WCAG 2.0–2.2 A/AA or of its best practices on any page type, at desktop and
phone sizes, for a visitor, a learner and an admin (issue 22).

axe-core comes from npm (``tests/js``, installed by ``npm ci --prefix tests/js``); without it the run stops
at collection and names that command (tests/conftest.py). It is evaluated in the page through the DevTools
protocol: the pages' CSP refuses the inline ``<script>`` that ``page.add_script_tag`` would add
(``test_the_pages_csp_refuses_an_injected_script_tag``). Two tests show that the audit can fail: a bad snippet
and a real page made worse are both reported."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page

from learning.admin.commands import create_admin
from tests.helpers.accounts import PASSWORD
from tests.helpers.axe import AXE, audit, describe
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.web.browsing import WAIT_MS, Live, off_loop, sign_in, sign_up
from tests.web.conftest import MODULE, TEXT_LESSON, VIDEO_LESSON, new_email

pytestmark = pytest.mark.browser

SESSION = "2019-01-lancement-du-cycle"  # has its replay
SIZES = {"bureau": {"width": 1280, "height": 900}, "telephone": {"width": 390, "height": 844}}
VISITOR, LEARNER, ADMIN = "visiteur", "apprenant", "admin"
DOWNLOADS = "{downloads}"  # the downloads page of the session's replay, known once the server runs
# page type → who looks at it, and where
PAGES = {
    "accueil": (VISITOR, "/"),
    "modules": (VISITOR, "/modules"),
    "module": (VISITOR, f"/modules/{MODULE}"),
    "lecon-video": (VISITOR, f"/modules/{MODULE}/lecons/{VIDEO_LESSON}"),
    "lecon-texte": (VISITOR, f"/modules/{MODULE}/lecons/{TEXT_LESSON}"),
    "webinaires": (VISITOR, "/webinaires"),
    "serie": (VISITOR, f"/webinaires/{SERIES}"),
    "seance": (VISITOR, f"/webinaires/{SERIES}/{SESSION}"),
    "recherche": (VISITOR, "/recherche?q=territoire"),
    "connexion": (VISITOR, "/connexion"),
    "inscription": (VISITOR, "/inscription"),
    "mentions-legales": (VISITOR, "/mentions-legales"),
    "donnees-personnelles": (VISITOR, "/donnees-personnelles"),
    "accessibilite": (VISITOR, "/accessibilite"),
    "page-introuvable": (VISITOR, "/modules/cette-page-n-existe-pas"),
    "abonnement": (VISITOR, f"/abonnement/modules/{MODULE}"),
    "mot-de-passe-oublie": (VISITOR, "/mot-de-passe-oublie"),
    "lien-expire": (VISITOR, "/mot-de-passe/nouveau/lien-inconnu"),
    "confirmation-expiree": (VISITOR, "/adresse/confirmer/lien-inconnu"),
    "module-suivi": (LEARNER, f"/modules/{MODULE}?fait=inscrit"),
    "desinscription": (LEARNER, f"/modules/{MODULE}/desinscription"),
    "compte": (LEARNER, "/compte"),
    "mes-attestations": (LEARNER, "/compte/attestations"),
    "quiz": (LEARNER, f"/modules/{MODULE}/quiz"),
    "admin": (ADMIN, "/admin/"),
    "admin-envoi": (ADMIN, "/admin/envoi"),
    "admin-nouvelle-seance": (ADMIN, "/admin/seances/nouvelle"),
    "admin-nouveau-module": (ADMIN, "/admin/modules/nouveau"),
    "admin-inscrits": (ADMIN, f"/admin/seances/{SERIES}/{SESSION}/inscrits"),
    "mot-de-passe": (LEARNER, "/compte/mot-de-passe"),
    "supprimer-compte": (LEARNER, "/compte/supprimer"),
    "adresse": (LEARNER, "/compte/adresse"),
    "admin-telechargements": (ADMIN, DOWNLOADS),
}

_STATUS = {"page-introuvable": 404, "lien-expire": 410, "confirmation-expiree": 410}  # the others answer 200


class Visitors:
    """One browser context per person and screen size (a person's cookies carried over to the other size),
    each with one page reused from one audit to the next."""

    def __init__(self, browser: Browser, live: Live) -> None:
        self.browser, self.live = browser, live
        self.contexts: dict[tuple[str, str], BrowserContext] = {}
        self.pages: dict[tuple[str, str], Page] = {}
        self.downloads = ""

    def page(self, role: str, size: str) -> Page:
        if (role, size) not in self.pages:
            known = next((c for (r, _), c in self.contexts.items() if r == role), None)
            context = self.browser.new_context(
                base_url=self.live.base, locale="fr-FR", viewport=SIZES[size],
                storage_state=known.storage_state() if known else None,
            )  # fmt: skip
            context.set_default_timeout(WAIT_MS)
            self.contexts[role, size] = context
            self.pages[role, size] = page = context.new_page()
            if known is None:
                self._become(role, page)
        return self.pages[role, size]

    def _become(self, role: str, page: Page) -> None:
        if role == LEARNER:
            sign_up(page, new_email("axe"))
            page.goto(f"/modules/{MODULE}")
            page.get_by_role("button", name="S’inscrire à ce module").click()
            page.goto("/compte")
            page.get_by_role("button", name="Créer un jeton").click()  # the account page with its private feeds
            page.locator("#private-feed-1").wait_for()
        elif role == ADMIN:
            admin = new_email("regie-axe")
            off_loop(asyncio.run, create_admin(self.live.settings, email=admin, password=PASSWORD))
            sign_in(page, admin)

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's source (tests/conftest.py has stopped the run already if it is not installed)."""
    return Path(AXE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def visitors(browser: Browser, live: Live) -> Iterator[Visitors]:
    found = Visitors(browser, live)
    replay = httpx.get(f"{live.base}/api/v1/webinars/{SERIES}/sessions/{SESSION}").json()["replay"]["id"]
    found.downloads = f"/admin/telechargements/{replay}"
    off_loop(  # a few counted downloads, so the page has its chart and its table of apps
        sql,
        live.settings.require_database_url(),
        "INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day) "
        "SELECT $1::uuid, md5(random()::text || n), now(), now(), app, current_date - days_ago "
        "FROM unnest($2::int[], $3::int[], $4::text[]) AS t(days_ago, downloads, app), "
        "generate_series(1, downloads) AS n",
        replay,
        [0, 1, 4, 12],
        [3, 6, 2, 5],
        ["AntennaPod", "Apple Podcasts", "AntennaPod", "Pocket Casts"],
    )
    yield found
    found.close()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_violation_on_the_page(visitors: Visitors, axe: str, name: str, size: str) -> None:
    role, path = PAGES[name]
    page = visitors.page(role, size)
    response = page.goto(path.replace(DOWNLOADS, visitors.downloads))
    assert response is not None
    assert response.status == _STATUS.get(name, 200), path
    page.wait_for_load_state("networkidle")  # what the pages' scripts add or reveal is audited too
    result = audit(page, axe)
    assert result["passes"] > 10, "axe checked almost nothing: was the page rendered?"
    assert not result["violations"], f"{name} at {size} ({path}):\n{describe(result['violations'])}"


# --- the audit can fail ---------------------------------------------------------------------------------------
BAD = """<!doctype html><html><head><title>x</title></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text">
<p style="color:#bbb;background:#fff">Texte trop pâle</p>
</body></html>"""


def test_axe_reports_the_violations_of_a_bad_page(visitors: Visitors, axe: str) -> None:
    page = visitors.page(VISITOR, "bureau")
    page.goto("about:blank")  # set_content keeps the document's CSP, which would refuse the inline style
    page.set_content(BAD)
    found = {v["id"] for v in audit(page, axe)["violations"]}
    assert {"html-has-lang", "image-alt", "label", "color-contrast", "landmark-one-main"} <= found, found


def test_axe_reports_a_violation_added_to_a_real_page(visitors: Visitors, axe: str) -> None:
    page = visitors.page(VISITOR, "bureau")
    page.goto("/")
    page.locator("main").evaluate(
        """main => { const img = document.createElement('img'); img.src = '/static/favicon.svg';
                     img.id = 'sans-alternative'; main.prepend(img); }"""
    )
    violations = audit(page, axe)["violations"]
    assert [v["nodes"][0]["target"] for v in violations if v["id"] == "image-alt"] == ["#sans-alternative"], violations
    assert "#sans-alternative" in describe(violations)


def test_the_pages_csp_refuses_an_injected_script_tag(visitors: Visitors) -> None:
    """Why axe is evaluated rather than added as a <script>: the CSP blocks Playwright's add_script_tag."""
    page = visitors.page(VISITOR, "bureau")
    page.goto("/connexion")
    with pytest.raises(Error, match="Content Security Policy"):
        page.add_script_tag(path=AXE)
    assert page.evaluate("() => typeof window.axe") == "undefined"
