"""The pages through a test client: what they show, how they escape, and their security (cookie session,
CSRF on forms and on cookie-authenticated API calls, Content-Security-Policy, admin-only pages)."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import webvtt
from litestar.testing import TestClient

from learning.accounts.auth import CSRF_COOKIE, SESSION_COOKIE
from learning.app import create_app
from learning.config import Settings
from learning.lib.clock import utcnow
from tests.helpers.accounts import PASSWORD, login
from tests.helpers.catalog import SERIES
from tests.helpers.database import REPOSITORY, sql
from tests.helpers.media import make_video
from tests.web.conftest import (
    MODULE,
    TEXT_LESSON,
    VIDEO_LESSON,
    csrf_token,
    make_admin,
    new_email,
    sign_in,
    sign_up,
)

HOSTILE = '<script>alert("titre")</script> & <b>gras</b>'
FIRST_SESSION = "2019-01-lancement-du-cycle"


def _set_cookies(response: Any) -> dict[str, str]:
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        cookies[name] = header.lower()
    return cookies


def _wait_for_upload(client: TestClient[Any], headers: dict[str, str], upload_id: str, states: set[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status: str = client.get(f"/api/v1/admin/uploads/{upload_id}", headers=headers).json()["status"]
        if status in states:
            return status
        time.sleep(0.1)  # polling the job, not a timing assertion
    raise AssertionError(f"upload {upload_id} never reached {states}")


# --- reading ------------------------------------------------------------------------------------------
def test_home_lists_the_modules_and_the_webinars_with_their_feeds(web: TestClient[Any]) -> None:
    response = web.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "Comprendre la co-construction territoriale" in page
    assert f'href="/webinaires/{SERIES}"' in page
    # One « S'abonner » per module and per series, each to the page that explains it.
    assert f'href="/abonnement/modules/{MODULE}"' in page
    assert f'href="/abonnement/webinaires/{SERIES}"' in page
    assert page.count("S’abonner") >= 5


def test_cards_and_pages_show_the_cover_the_length_and_the_kinds_of_lessons(web: TestClient[Any]) -> None:
    home = _spaces(web.get("/").text)
    detail = web.get(f"/api/v1/modules/{MODULE}").json()
    kinds = [lesson["kind"] for lesson in detail["lessons"]]
    words = {"video": ("vidéo", "vidéos"), "audio": ("audio", "audio"), "text": ("texte", "textes")}
    said = ", ".join(
        f"{kinds.count(kind)} {words[kind][kinds.count(kind) > 1]}"
        for kind in ("video", "audio", "text")
        if kind in kinds
    )
    card = re.search(rf'<li class="card">(?:(?!</li>).)*?href="/modules/{MODULE}".*?</li>', home, re.S)
    assert card
    assert f"{len(kinds)} leçons ({said})" in card.group(0)
    minutes = round(detail["duration_seconds"] / 60)
    assert f"environ {minutes} min" in card.group(0)
    cover = re.search(r'<img class="cover cover-small" src="(/media/[^"]+\.png)" alt=""', card.group(0))
    assert cover, "the module's cover is its feed's artwork"
    served = web.get(cover.group(1))
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    series = re.search(r'<img class="cover cover-small" src="(/media/[^"]+\.jpg)" alt=""', home)
    assert series, "the series' cover is its feed's artwork"
    assert '<img class="cover cover-large" src="/media/' in web.get(f"/modules/{MODULE}").text
    assert '<img class="cover cover-large" src="/media/' in web.get(f"/webinaires/{SERIES}").text


def test_a_subscribe_page_gives_the_whole_address_its_qr_code_and_the_steps(web: TestClient[Any]) -> None:
    page = web.get(f"/abonnement/webinaires/{SERIES}").text
    feed = f"http://testserver.local/feeds/webinars/{SERIES}.xml"
    assert f'readonly rows="2" spellcheck="false">{feed}</textarea>' in page
    assert f'href="podcast://testserver.local/feeds/webinars/{SERIES}.xml"' in page
    assert 'class="copy-button"' in page  # shown by the script; the address stays selectable without it
    assert f'<svg role="img" aria-label="QR code de l’adresse du flux : {feed}"' in page
    assert "Spotify ne permet pas d’ajouter un podcast par l’adresse de son flux" in page
    module_page = web.get(f"/abonnement/modules/{MODULE}")
    assert module_page.status_code == 200
    assert "S’abonner à ce module" in module_page.text


@pytest.mark.parametrize("path", ["/abonnement/modules/inconnu", f"/abonnement/series/{SERIES}", "/abonnement/x/y"])
def test_a_subscribe_page_for_no_feed_is_a_french_404(web: TestClient[Any], path: str) -> None:
    response = web.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


def test_lesson_text_and_player_are_in_the_html(web: TestClient[Any]) -> None:
    text = web.get(f"/modules/{MODULE}/lecons/{TEXT_LESSON}").text
    assert '<article class="prose">' in text
    assert "<p>" in text
    video = web.get(f"/modules/{MODULE}/lecons/{VIDEO_LESSON}").text
    source = re.search(r'<source src="(/media/[^"]+\.mp4)" type="video/mp4">', video)
    assert source, "the player plays from this site's own /media/ path"
    assert web.get(source.group(1), headers={"Range": "bytes=0-99"}).status_code == 206
    assert 'data-track="off"' in video  # a visitor's progress is not sent


def test_a_webinar_page_has_captions_and_chapters_tracks(web: TestClient[Any]) -> None:
    page = web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}").text
    assert re.search(r'<track kind="captions" src="/media/[^"]+\.vtt" srclang="fr"', page)
    assert f'<track kind="chapters" src="/webinaires/{SERIES}/{FIRST_SESSION}/chapitres.vtt"' in page
    chapters = web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}/chapitres.vtt")
    assert chapters.headers["content-type"].startswith("text/vtt")
    assert chapters.text.startswith("WEBVTT\n")
    shipped = json.loads((REPOSITORY / "media" / "webinar-2019-01.chapters.json").read_text(encoding="utf-8"))
    second, third = shipped["chapters"][1], shipped["chapters"][2]
    cue = f"{_cue_time(second['startTime'])} --> {_cue_time(third['startTime'])}\n{second['title']}"
    assert cue in chapters.text, chapters.text


def test_the_transcript_is_text_beside_the_player(web: TestClient[Any]) -> None:
    page = web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}").text
    shipped = webvtt.read(str(REPOSITORY / "media" / "webinar-2019-01.vtt")).captions
    cues = re.findall(
        r'<li data-start="([0-9.]+)" data-end="[0-9.]+">.*?<span class="cue-text">(.*?)</span></li>', page, re.S
    )
    assert len(cues) == len(shipped)
    for (start, said), cue in zip(cues, shipped, strict=True):
        assert float(start) == pytest.approx(cue.start_time.in_milliseconds() / 1000)
        assert _spaces(html.unescape(said)) == _spaces(" ".join(cue.text.split()))
    assert "Télécharger la transcription</a>" in page
    assert 'aria-labelledby="transcription-titre"' in page


def test_a_subrip_transcript_becomes_the_captions_and_the_text(web: TestClient[Any], web_settings: Settings) -> None:
    """An admin may attach SubRip: the player still gets WebVTT captions (browsers only read WebVTT)."""
    srt = (
        "1\n00:00:01,250 --> 00:00:03,000\nPremière <i>réplique</i>\n\n"
        "2\n00:00:04,000 --> 00:00:06,500\nSeconde\nsur deux lignes\n"
    )
    admin = login(web, make_admin(web_settings))
    lessons = web.get(f"/api/v1/modules/{MODULE}").json()["lessons"]
    audio = next(found["slug"] for found in lessons if found["kind"] == "audio")  # no other test reads its captions
    lesson = f"/modules/{MODULE}/lecons/{audio}"
    attached = web.put(
        f"/api/v1/admin/modules/{MODULE}/lessons/{audio}/files/transcript", content=srt.encode(),
        headers=admin.headers | {"Content-Type": "application/x-subrip"},
    )  # fmt: skip
    assert attached.status_code == 200, attached.text
    page = web.get(lesson).text
    assert f'<track kind="captions" src="{lesson}/transcription.vtt" srclang="fr"' in page
    assert '<span class="cue-text">Première réplique</span>' in page
    captions = web.get(f"{lesson}/transcription.vtt")
    assert captions.headers["content-type"].startswith("text/vtt")
    read = webvtt.from_string(captions.text).captions
    assert [(c.start, c.end, c.text) for c in read] == [
        ("00:00:01.250", "00:00:03.000", "Première réplique"),
        ("00:00:04.000", "00:00:06.500", "Seconde sur deux lignes"),
    ]
    assert web.get(f"/modules/{MODULE}/lecons/{TEXT_LESSON}/transcription.vtt").status_code == 404


def _cue_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3_600_000:02d}:{millis // 60_000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def test_unknown_pages_are_french_html_404s(web: TestClient[Any]) -> None:
    for path in ("/modules/inconnu", f"/modules/{MODULE}/lecons/inconnue", f"/webinaires/{SERIES}/inconnue"):
        response = web.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Page introuvable" in response.text


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/aide", "/mentions", "/accessibilite/plus", "/modules/x/y/z", "/recherche/plus"])
def test_a_browser_lost_on_any_address_gets_a_french_page(web: TestClient[Any], path: str) -> None:
    answer = web.get(path, headers=BROWSER)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in answer.text
    assert "content-security-policy" in answer.headers  # an HTML answer like every page
    machine = web.get(path, headers={"Accept": "application/json"})  # an API client still gets problem+json
    assert machine.status_code == 404
    assert machine.headers["content-type"] == "application/problem+json"


def test_machine_addresses_answer_problems_even_to_a_browser(web: TestClient[Any]) -> None:
    for path in ("/api/v1/inconnu", "/feeds/inconnu.xml", "/media/inconnu"):
        answer = web.get(path, headers=BROWSER)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", path


def test_the_modules_and_webinars_addresses_list_what_is_published(web: TestClient[Any]) -> None:
    modules = web.get("/modules", headers=BROWSER)
    assert modules.status_code == 200
    for module in web.get("/api/v1/modules?limit=100").json()["items"]:
        assert f'href="/modules/{module["slug"]}"' in modules.text
    webinars = web.get("/webinaires", headers=BROWSER)
    assert webinars.status_code == 200
    assert f'href="/webinaires/{SERIES}"' in webinars.text
    assert webinars.text.count(f'href="/webinaires/{SERIES}/') == 12


def test_pages_describe_themselves_and_carry_the_site_icon(web: TestClient[Any]) -> None:
    lesson = web.get(f"/api/v1/modules/{MODULE}/lessons/{VIDEO_LESSON}").json()
    for path, expected in (("/", "Reconstitution pédagogique"), (f"/modules/{MODULE}/lecons/{VIDEO_LESSON}", None)):
        page = web.get(path).text
        described = re.search(r'<meta name="description" content="([^"]+)">', page)
        assert described, path
        assert expected is None or expected in described.group(1)
        assert re.search(r'<meta property="og:title" content="[^"]+">', page), path
        icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
        assert icon, path
        served = web.get(icon.group(1))
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/svg+xml")
    page = web.get(f"/modules/{MODULE}/lecons/{VIDEO_LESSON}").text
    described = re.search(r'<meta name="description" content="([^"]+)">', page)
    assert described
    assert _spaces(html.unescape(described.group(1))) == _spaces(lesson["summary"])  # the lesson's own summary
    favicon = web.get("/favicon.ico", follow_redirects=False)
    assert favicon.status_code == 302
    assert web.get(favicon.headers["location"]).headers["content-type"].startswith("image/svg+xml")


def test_the_legal_pages_name_who_runs_the_site_and_what_it_keeps(web: TestClient[Any], web_settings: Settings) -> None:
    bare = web
    for path, heading in (("/mentions-legales", "Mentions légales"), ("/donnees-personnelles", "Données personnelles"),
                          ("/accessibilite", "Déclaration d’accessibilité")):  # fmt: skip
        answer = bare.get(path)
        assert answer.status_code == 200, path
        assert heading in answer.text
        assert f'href="{path}"' in bare.get("/").text  # linked from every page's footer
    assert "LEARNING_SITE_PUBLISHER" in bare.get("/mentions-legales").text  # unset: said, not invented
    assert "non conforme" in bare.get("/accessibilite").text  # no audit yet: declared as such
    identity = {"site_publisher": "Association Exemple", "site_contact_email": "contact@exemple-asso.fr",
                "site_host": "Hébergeur Exemple, 1 rue de la Paix, 75000 Paris"}  # fmt: skip
    with TestClient(app=create_app(web_settings.model_copy(update=identity))) as named:
        legal = named.get("/mentions-legales").text
        assert "Association Exemple" in legal
        assert "Hébergeur Exemple" in legal
        assert 'href="mailto:contact@exemple-asso.fr"' in named.get("/donnees-personnelles").text
        assert 'href="mailto:contact@exemple-asso.fr"' in named.get("/accessibilite").text


def _spaces(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_the_search_landmarks_of_the_results_page_are_told_apart(web: TestClient[Any]) -> None:
    page = web.get("/recherche", params={"q": "territoire"}).text
    forms = re.findall(r'<form[^>]*role="search"[^>]*>', page)
    labels = [re.search(r'aria-label="([^"]+)"', form) for form in forms]
    assert len(forms) == 2
    assert all(labels)
    assert len({label.group(1) for label in labels if label}) == 2  # one name each: screen readers list both


def test_search_finds_french_words_without_accents(web: TestClient[Any]) -> None:
    page = web.get("/recherche", params={"q": "cooperation territoire"}).text
    assert "résultat" in page
    assert 'href="/modules/' in page or 'href="/webinaires/' in page


# --- security headers, escaping -------------------------------------------------------------------------
def test_pages_carry_a_strict_content_security_policy(web: TestClient[Any]) -> None:
    for path in ("/", f"/modules/{MODULE}/lecons/{VIDEO_LESSON}", "/connexion"):
        response = web.get(path)
        policy = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        scripts = re.findall(r"<script\b[^>]*>", response.text)
        assert scripts
        assert all(' src="/static/' in tag for tag in scripts), "no inline script"
        assert not re.search(r"<[a-z]+[^>]* on[a-z]+=", response.text), "no inline event handler"
    assert web.get("/static/player.js").headers["content-type"].startswith("text/javascript")


def test_a_hostile_title_is_escaped_everywhere(web: TestClient[Any], web_settings: Settings) -> None:
    admin = login(web, make_admin(web_settings))
    created = web.post(
        f"/api/v1/admin/webinars/{SERIES}/sessions",
        json={"slug": "seance-hostile", "title": HOSTILE, "scheduled_at": "2019-12-30T11:00:00+01:00",
              "summary": "<img src=x onerror=alert(1)>"},
        headers=admin.headers,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    published = web.put(
        f"/api/v1/admin/webinars/{SERIES}/sessions/seance-hostile/publication",
        json={"state": "published"},
        headers=admin.headers,
    )
    assert published.status_code == 200
    filename = '<img src=x onerror="alert(2)">.mp4'
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": filename, "target": f"session:{SERIES}/seance-hostile"}.items()
    )
    upload = web.post(
        "/api/v1/admin/uploads/",
        content=b"pas une video " * 100,
        headers=admin.headers | {"Tus-Resumable": "1.0.0", "Upload-Length": "1400", "Upload-Metadata": metadata,
                                 "Content-Type": "application/offset+octet-stream"},
    )  # fmt: skip
    assert upload.status_code == 201, upload.text
    upload_id = upload.headers["location"].rsplit("/", 1)[1]
    assert _wait_for_upload(web, admin.headers, upload_id, {"failed"}) == "failed"
    assert sign_in(web, admin.email).status_code == 303
    for path in ("/", f"/webinaires/{SERIES}", f"/webinaires/{SERIES}/seance-hostile", "/admin/"):
        page = web.get(path).text
        assert "<script>alert" not in page, path
        assert "<b>gras</b>" not in page, path
        assert "<img src=x" not in page, path
    desk = web.get("/admin/").text
    # Escaped, and typographed like any French text (its quotes become « »); a file name is not typographed.
    assert "&lt;script&gt;alert(«\u202ftitre\u202f»)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;" in desk
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;.mp4" in desk


# --- sessions and CSRF ------------------------------------------------------------------------------------
def test_signing_in_sets_an_httponly_samesite_cookie(web: TestClient[Any]) -> None:
    email = sign_up(web)
    web.cookies.clear()
    response = sign_in(web, email, suite="/compte")
    assert response.status_code == 303
    assert response.headers["location"] == "/compte"
    cookie = _set_cookies(response)[SESSION_COOKIE]
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # the public address is http
    account = web.get("/compte")
    assert account.status_code == 200
    assert email in account.text
    signed_out = web.post("/deconnexion", data={"_csrf_token": csrf_token(web)}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert web.get("/compte", follow_redirects=False).status_code == 303


def test_cookies_are_secure_when_the_public_address_is_https(web_settings: Settings) -> None:
    settings = web_settings.model_copy(update={"public_base_url": "https://formation.example.org"})
    with TestClient(app=create_app(settings), base_url="https://formation.example.org") as client:
        email = sign_up(client)
        response = sign_in(client, email)
        cookies = _set_cookies(response)
        assert "secure" in cookies[SESSION_COOKIE]
        first = client.get("/", headers={"cookie": ""})
        assert "secure" in _set_cookies(first)[CSRF_COOKIE]


def test_wrong_credentials_and_weak_passwords_are_explained_in_french(web: TestClient[Any]) -> None:
    email = sign_up(web)
    web.cookies.clear()
    wrong = sign_in(web, email, "pas le bon mot de passe")
    assert wrong.status_code == 400
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.text
    assert SESSION_COOKIE not in _set_cookies(wrong)
    form = {"email": new_email(), "password": "court", "display_name": "", "suite": "/", "_csrf_token": csrf_token(web)}
    weak = web.post("/inscription", data=form)
    assert weak.status_code == 400
    assert "Mot de passe refusé" in weak.text
    taken = web.post("/inscription", data=form | {"email": email, "password": PASSWORD})
    assert taken.status_code == 400
    assert "Un compte existe déjà" in taken.text


def test_forms_without_a_valid_csrf_token_are_refused(web: TestClient[Any]) -> None:
    email = sign_up(web)
    web.cookies.delete(SESSION_COOKIE)
    form = {"email": email, "password": PASSWORD, "suite": "/"}
    missing = web.post("/connexion", data=form, follow_redirects=False)
    assert missing.status_code == 403
    assert missing.headers["content-type"].startswith("text/html")
    assert "vérification de sécurité" in missing.text
    forged = web.post("/connexion", data=form | {"_csrf_token": "0" * 128}, follow_redirects=False)
    assert forged.status_code == 403
    assert SESSION_COOKIE not in _set_cookies(forged)
    assert sign_in(web, email).status_code == 303
    enroll = web.post(f"/modules/{MODULE}/inscription", data={}, follow_redirects=False)
    assert enroll.status_code == 403


def test_cookie_signed_api_calls_that_change_something_need_the_csrf_header(web: TestClient[Any]) -> None:
    email = sign_up(web)
    assert web.get("/api/v1/me").json()["email"] == email  # reading with the cookie alone is fine
    body = {"module": MODULE}
    refused = web.post("/api/v1/me/enrollments", json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    forged = web.post("/api/v1/me/enrollments", json=body, headers={"X-CSRF-Token": "f" * 128})
    assert forged.status_code == 403
    accepted = web.post("/api/v1/me/enrollments", json=body, headers={"X-CSRF-Token": csrf_token(web)})
    assert accepted.status_code == 201
    # Bearer clients never send cookies: no CSRF header for them.
    bearer = login(web, email)
    web.cookies.clear()
    assert web.delete(f"/api/v1/me/enrollments/{MODULE}", headers=bearer.headers).status_code == 204
    assert web.post("/api/v1/me/enrollments", json=body).status_code == 401


def test_sign_in_never_redirects_to_another_site(web: TestClient[Any]) -> None:
    email = sign_up(web)
    web.cookies.delete(SESSION_COOKIE)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert sign_in(web, email, suite=target).headers["location"] == "/"


# --- a learner ----------------------------------------------------------------------------------------------
def test_a_learner_enrolls_and_sees_progress_and_resume(web: TestClient[Any]) -> None:
    visitor = web.get(f"/modules/{MODULE}").text
    assert "Connectez-vous" in visitor
    assert "S’inscrire à ce module" not in visitor
    email = sign_up(web)
    assert "S’inscrire à ce module" in web.get(f"/modules/{MODULE}").text
    enrolled = web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    assert enrolled.status_code == 200
    assert "Vous suivez ce module" in _spaces(enrolled.text)
    assert ">Commencer<" in _spaces(enrolled.text)
    lesson = web.get(f"/modules/{MODULE}/lecons/{VIDEO_LESSON}").text
    assert 'data-track="on"' in lesson
    lesson_id = re.search(r'data-lesson-id="([0-9a-f-]{36})"', lesson)
    assert lesson_id
    now = utcnow()
    events = [
        {"id": "9d7c8f6e-3b1a-4c2d-8e9f-0a1b2c3d4e51", "type": "played", "lesson_id": lesson_id.group(1),
         "from": 0, "to": 9, "client_time": now.isoformat()},
        {"id": "9d7c8f6e-3b1a-4c2d-8e9f-0a1b2c3d4e52", "type": "position", "lesson_id": lesson_id.group(1),
         "position": 9, "client_time": (now + timedelta(seconds=1)).isoformat()},
    ]  # fmt: skip
    bearer = login(web, email)
    assert web.post("/api/v1/me/progress/events", json={"events": events}, headers=bearer.headers).status_code == 200
    module = _spaces(web.get(f"/modules/{MODULE}").text)
    assert ">Reprendre<" in module
    assert "En cours" in module
    assert f'<a class="button" href="/modules/{MODULE}/lecons/{VIDEO_LESSON}">Reprendre</a>' in module
    # Part of a video shows in the module's progress: not « 0 % » until a whole lesson is done.
    assert "0 leçon terminée sur" in module
    assert ", 1 en cours." in module
    advance = re.search(
        r'aria-label="Avancement dans le module">[^<]*</progress>\s*<span class="progress-value">(\d+) %', module
    )
    assert advance
    assert int(advance.group(1)) > 0
    # The home page offers the lesson left half-way, where it stopped.
    home = web.get("/").text
    resume = re.search(r'<section class="resume-card".*?</section>', home, re.S)
    assert resume
    assert f'href="/modules/{MODULE}/lecons/{VIDEO_LESSON}"' in resume.group(0)
    assert "à 0:09" in resume.group(0)
    account = web.get("/compte").text
    assert "Comprendre la co-construction territoriale" in account
    assert "Reprendre" in account


def test_a_text_lesson_is_marked_done_by_its_form(web: TestClient[Any]) -> None:
    sign_up(web)
    enrolled = web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    assert "C’est fait : vous êtes inscrit à ce module." in _spaces(enrolled.text)
    page = web.get(f"/modules/{MODULE}/lecons/{TEXT_LESSON}").text
    assert 'class="lesson-actions"' in page  # the sticky bar: reachable without scrolling through the text
    assert "Marquer comme terminée" in page
    done = web.post(f"/modules/{MODULE}/lecons/{TEXT_LESSON}/terminee", data={"_csrf_token": csrf_token(web)})
    assert done.status_code == 200
    assert "?fait=terminee" in str(done.url)
    assert "Leçon précédente marquée comme terminée." in _spaces(done.text)  # confirmed where the learner lands
    assert "Leçon terminée." in web.get(f"/modules/{MODULE}/lecons/{TEXT_LESSON}").text
    assert "Terminée" in web.get(f"/modules/{MODULE}").text
    # The home page then offers the lesson that follows.
    home = re.search(r'<section class="resume-card".*?</section>', web.get("/").text, re.S)
    assert home
    assert str(done.url).split("?")[0].removeprefix("http://testserver.local") in home.group(0)


def test_unenrolling_asks_first_and_keeps_the_progress(web: TestClient[Any]) -> None:
    sign_up(web)
    web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    module = _spaces(web.get(f"/modules/{MODULE}").text)
    assert f'action="/modules/{MODULE}/desinscription"' not in module  # no one-click unenrolling
    assert f'href="/modules/{MODULE}/desinscription"' in module
    question = web.get(f"/modules/{MODULE}/desinscription")
    assert question.status_code == 200
    assert "Se désinscrire de « Comprendre la co-construction territoriale » ?" in _spaces(question.text)
    assert f'action="/modules/{MODULE}/desinscription"' in _spaces(question.text)
    assert f'href="/modules/{MODULE}">Non, continuer le module</a>' in _spaces(question.text)
    assert "Vous suivez ce module" in _spaces(web.get(f"/modules/{MODULE}").text)  # asking changed nothing
    left = web.post(f"/modules/{MODULE}/desinscription", data={"_csrf_token": csrf_token(web)})
    assert "Vous n’êtes plus inscrit à ce module." in _spaces(left.text)
    assert "S’inscrire à ce module" in _spaces(left.text)


@pytest.mark.parametrize("action", ["inscription", f"lecons/{TEXT_LESSON}/terminee"])
def test_an_action_sent_after_the_session_expired_is_done_after_signing_in(web: TestClient[Any], action: str) -> None:
    email = sign_up(web)
    if action != "inscription":
        web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    page = f"/modules/{MODULE}/lecons/{TEXT_LESSON}"
    token = csrf_token(web, page)
    web.cookies.delete(SESSION_COOKIE)  # the session expired while the page stayed open (the CSRF cookie stays)
    sent = web.post(
        f"/modules/{MODULE}/{action}", data={"_csrf_token": token},
        headers={"Referer": f"http://testserver.local{page}"}, follow_redirects=False,
    )  # fmt: skip
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert location.startswith(f"/connexion?suite={page}&reprendre=")
    form = _spaces(web.get(location).text)
    assert "Votre session a expiré : reconnectez-vous, et votre action sera faite." in form
    assert f'name="reprendre" value="/modules/{MODULE}/{action}"' in form
    signed = web.post("/connexion", data={
        "email": email, "password": PASSWORD, "suite": page, "reprendre": f"/modules/{MODULE}/{action}",
        "_csrf_token": csrf_token(web, location),
    })  # fmt: skip
    assert signed.status_code == 200
    assert "fait=" in str(signed.url)  # the action's own confirmation
    module = _spaces(web.get(f"/modules/{MODULE}").text)
    assert "Vous suivez ce module" in module
    if action != "inscription":
        assert "1 leçon terminée sur" in module


def test_signing_in_carries_out_only_the_learner_actions_it_knows(web: TestClient[Any]) -> None:
    email = sign_up(web)
    web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    web.cookies.delete(SESSION_COOKIE)
    for foreign in (f"/modules/{MODULE}/desinscription", "/compte/jeton-prive", "//ailleurs.example/x"):
        form = web.get("/connexion?suite=/&reprendre=" + foreign).text
        assert 'name="reprendre"' not in form
        web.post("/connexion", data={
            "email": email, "password": PASSWORD, "suite": "/", "reprendre": foreign, "_csrf_token": csrf_token(web),
        })  # fmt: skip
        assert "Vous suivez ce module" in _spaces(web.get(f"/modules/{MODULE}").text)  # still enrolled: nothing done
        web.cookies.delete(SESSION_COOKIE)


def test_a_learner_changes_their_password_from_the_account_page(web_settings: Settings) -> None:
    with TestClient(app=create_app(web_settings)) as web, TestClient(app=create_app(web_settings)) as elsewhere:
        email = sign_up(web)
        assert sign_in(elsewhere, email).status_code == 303
        assert 'href="/compte/mot-de-passe"' in web.get("/compte").text
        form = {"current": "pas-le-bon", "new": "une-nouvelle-phrase-de-passe", "_csrf_token": csrf_token(web)}
        wrong = web.post("/compte/mot-de-passe", data=form)
        assert wrong.status_code == 400
        assert "Le mot de passe actuel n’est pas le bon." in _spaces(wrong.text)
        done = web.post("/compte/mot-de-passe", data=form | {"current": PASSWORD, "_csrf_token": csrf_token(web)})
        assert done.status_code == 200
        assert str(done.url).endswith("/compte?fait=mot-de-passe")
        assert "votre mot de passe a changé" in _spaces(done.text)
        assert "Mon compte" in web.get("/compte").text  # this session goes on
        assert elsewhere.get("/compte", follow_redirects=False).status_code == 303  # the other one ended
        assert sign_in(elsewhere, email, "une-nouvelle-phrase-de-passe").status_code == 303


def test_the_private_feed_token_works_without_javascript(web: TestClient[Any]) -> None:
    sign_up(web)
    web.post(f"/modules/{MODULE}/inscription", data={"_csrf_token": csrf_token(web)})
    created = web.post("/compte/jeton-prive", data={"action": "create", "_csrf_token": csrf_token(web, "/compte")})
    token = re.search(r'id="token-value" type="text" readonly value="([^"]+)"', created.text)
    assert token
    assert len(token.group(1)) > 30
    feed = f"http://testserver.local/feeds/private/{token.group(1)}/modules/{MODULE}.xml"
    assert feed in created.text
    # Each private address is labelled with its module (a learner following several tells them apart).
    assert "Flux privé du module «\u202fComprendre la co-construction territoriale\u202f»</label>" in created.text
    assert web.get(feed.removeprefix("http://testserver.local")).status_code == 200
    assert "Jeton actif commençant par" in web.get("/compte").text
    assert token.group(1) not in web.get("/compte").text  # shown once
    assert "L’ancien ne fonctionne plus" not in created.text  # the first token replaced nothing
    revoked = web.post("/compte/jeton-prive", data={"action": "revoke", "_csrf_token": csrf_token(web, "/compte")})
    assert web.get(feed.removeprefix("http://testserver.local")).status_code == 410
    assert "Le jeton a été révoqué" in revoked.text
    again = web.post("/compte/jeton-prive", data={"action": "revoke", "_csrf_token": csrf_token(web, "/compte")})
    assert "Le jeton a été révoqué" not in again.text  # nothing was active: said so, not a false confirmation
    assert "Vous n’aviez pas de jeton" in again.text


# --- the admin desk ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/envoi", f"/admin/telechargements/{'0' * 8}-0000-0000-0000-{'0' * 12}"]
)
def test_admin_pages_send_visitors_to_sign_in_and_refuse_learners(web: TestClient[Any], path: str) -> None:
    visitor = web.get(path, follow_redirects=False)
    assert visitor.status_code == 303
    assert visitor.headers["location"] == f"/connexion?suite={path.rstrip('/')}"
    sign_up(web)
    learner = web.get(path)
    assert learner.status_code == 403
    assert "Cette page est réservée aux administrateurs." in learner.text
    refused = web.post("/admin/publication", data={"cible": f"session:{SERIES}/{FIRST_SESSION}", "etat": "draft",
                                                   "_csrf_token": csrf_token(web)})  # fmt: skip
    assert refused.status_code == 403


def test_the_desk_publishes_unpublishes_and_retries(
    web: TestClient[Any], web_settings: Settings, tmp_path: Path
) -> None:
    admin = login(web, make_admin(web_settings))
    assert sign_in(web, admin.email).status_code == 303
    desk = web.get("/admin/").text
    assert "Séances de la série «\u202fL’innovation territoriale en actions\u202f! — les webinaires 2019\u202f»" in desk
    row = re.search(rf'<tr id="session-{SERIES}-{FIRST_SESSION}".*?</tr>', desk, re.S)
    assert row
    assert "Publié" in row.group(0)
    assert "Prêt" in row.group(0)
    target = f"session:{SERIES}/{FIRST_SESSION}"
    form = {"cible": target, "etat": "draft", "_csrf_token": csrf_token(web)}
    unpublished = web.post("/admin/publication", data=form)
    assert "C’est dépublié" in unpublished.text
    assert web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}").status_code == 404
    web.post("/admin/publication", data=form | {"etat": "published"})
    assert web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}").status_code == 200
    # A refused file (not a video) is removed: the desk says to send it again rather than retrying it.
    noise = _upload(web, admin.headers, target, "bruit.mp4", b"\x00" * 2048)
    assert _wait_for_upload(web, admin.headers, noise, {"failed"}) == "failed"
    desk = web.get("/admin/").text
    assert "Échec" in desk
    refused = web.post(f"/admin/envois/{noise}/relancer", data={"_csrf_token": csrf_token(web)})
    assert refused.status_code == 409
    assert "envoyez-le à nouveau" in refused.text
    # A job that failed with its file still stored is queued again from the desk.
    video = make_video(tmp_path / "replay.mp4", seconds=2.0).read_bytes()
    kept = _upload(web, admin.headers, target, "replay.mp4", video)
    assert _wait_for_upload(web, admin.headers, kept, {"ready", "failed"}) == "ready"
    sql(web_settings.require_database_url(), "UPDATE upload SET status = 'failed', error = 'essai' WHERE id = $1::uuid",
        kept)  # fmt: skip
    assert f'action="/admin/envois/{kept}/relancer"' in web.get("/admin/").text
    retried = web.post(f"/admin/envois/{kept}/relancer", data={"_csrf_token": csrf_token(web)})
    assert "Le traitement est relancé." in retried.text
    status = web.get(f"/api/v1/admin/uploads/{kept}", headers=admin.headers).json()["status"]
    assert status in {"uploaded", "processing", "ready"}  # queued again


def _upload(client: TestClient[Any], headers: dict[str, str], target: str, name: str, data: bytes) -> str:
    metadata = (
        f"filename {base64.b64encode(name.encode()).decode()},target {base64.b64encode(target.encode()).decode()}"
    )
    created = client.post(
        "/api/v1/admin/uploads/", content=data,
        headers=headers | {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata,
                           "Content-Type": "application/offset+octet-stream"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return str(created.headers["location"]).rsplit("/", 1)[1]


def test_the_downloads_chart_is_drawn_per_episode(web: TestClient[Any], web_settings: Settings) -> None:
    replay = web.get(f"/api/v1/webinars/{SERIES}/sessions/{FIRST_SESSION}").json()["replay"]
    today = utcnow().date()
    url = web_settings.require_database_url()
    insert = (
        "INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day) "
        "VALUES ($1::uuid, md5(random()::text), now(), now(), 'AntennaPod', $2)"
    )
    for day, count in ((today, 3), (today - timedelta(days=2), 1)):
        for _ in range(count):
            sql(url, insert, replay["id"], day)
    admin = make_admin(web_settings)
    sign_in(web, admin)
    desk = web.get("/admin/").text
    assert f'href="/admin/telechargements/{replay["id"]}">4<' in desk
    page = web.get(f"/admin/telechargements/{replay['id']}").text
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('<rect class="bar"') == 30
    assert "3 téléchargements</title>" in svg
    assert "AntennaPod" in page
    assert "<strong>4</strong> téléchargements" in page
    week = web.get(f"/admin/telechargements/{replay['id']}?jours=7").text
    assert week.count('<rect class="bar"') == 7


def test_options_answers_need_no_session(web: TestClient[Any]) -> None:
    for path in ("/", "/compte", "/admin/", "/admin/publication", f"/modules/{MODULE}/inscription"):
        response = web.options(path, follow_redirects=False)
        assert response.status_code == 204, path
        assert response.content == b""
