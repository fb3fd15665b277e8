"""What the browser tests share: the app on a real port over a synced catalog, Debian's Chromium driven by
Playwright, a desktop context, and helpers to sign in, play media, press Tab through a page and take screenshots.
The fixtures are re-exported by tests/web/conftest.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from learning.app import create_app
from learning.config import Settings
from tests.helpers.accounts import PASSWORD
from tests.helpers.browser import CHROMIUM
from tests.helpers.catalog import sync
from tests.helpers.database import make_settings, truncate_all
from tests.helpers.live import free_port, live_server

# Where the browser tests leave their screenshots: a build folder, so a test run changes no tracked file.
# `bench/screenshots` points this at docs/screenshots/ to refresh the pictures the README shows.
SCREENSHOTS = Path(
    os.environ.get("LEARNING_SCREENSHOTS_DIR") or Path(__file__).resolve().parents[2] / "build" / "screenshots"
)
T = TypeVar("T")
WAIT_MS = 20_000
# Everything a keyboard user may need to reach.
CONTROLS = (
    "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, "
    "video[controls], audio[controls], summary"
)

# Assertions wait as long as actions do: on a busy machine (the suite's parallel workers, a benchmark beside
# it) a page takes more than Playwright's default 5 s to reach a state it does reach.
expect.set_options(timeout=WAIT_MS)


class Live:
    def __init__(self, base: str, settings: Settings) -> None:
        self.base = base
        self.settings = settings


@pytest.fixture(scope="module")
def live(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app on a real port; its public address is that port, so feeds and media point back to it."""
    truncate_all(database_url)
    port = free_port()
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("browser") / "var", public_base_url=f"http://127.0.0.1:{port}",
        login_ip_limit=10_000, register_ip_limit=10_000,
    )  # fmt: skip
    sync(settings)
    with live_server(create_app(settings), port=port) as base:
        yield Live(base, settings)


def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a helper that calls asyncio.run: Playwright's synchronous API keeps an event loop running here."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Browser]:
    """Chromium, started once the server is up (Playwright runs an event loop in this thread from then on)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, live: Live) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.base, locale="fr-FR", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(WAIT_MS)
    yield context
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def media_reaches(page: Page, condition: str) -> None:
    """Wait until the player's ``time`` satisfies ``condition`` (a function, not a string to evaluate: the
    pages' CSP forbids eval, and Playwright's string predicates use it)."""
    page.wait_for_function(f"() => (time => {condition})(document.getElementById('lecteur').currentTime)")


def play_until(page: Page, seconds: float) -> None:
    page.locator("#lecteur").evaluate("media => media.play()")
    media_reaches(page, f"time > {seconds}")


def sign_up(page: Page, email: str) -> None:
    page.goto("/inscription")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.locator('a[href="/compte"]')).to_have_count(1)  # in the folded menu on a phone


def sign_in(page: Page, email: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator('a[href="/compte"]')).to_have_count(1)  # in the folded menu on a phone


def keyboard_reach(page: Page, limit: int = 400) -> tuple[set[str], set[str]]:
    """Press Tab through the page: which controls it reached, and which visible controls exist."""
    expected = set(
        page.evaluate(
            """selector => Array.from(document.querySelectorAll(selector))
                 .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
                 .map((el, i) => (el.dataset.kbd = String(i)))""",
            CONTROLS,
        )
    )
    reached: set[str] = set()
    page.locator("body").focus()
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(
            """() => { const el = document.activeElement;
                 if (!el || !el.dataset.kbd) return null;
                 const style = getComputedStyle(el);
                 return [el.dataset.kbd, style.outlineStyle !== 'none' && style.outlineWidth !== '0px'
                         || el.matches('video, audio')]; }"""
        )
        if found is None:
            continue
        key, visible_focus = found
        assert visible_focus, f"control {key} has no visible focus"
        reached.add(key)
        if reached >= expected:
            break
    return reached, expected
