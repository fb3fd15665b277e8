"""The admin pages through a test client: failures said in French with what to do, « Relancer » only when it
can help, unpublishing that asks first, the message where the admin acted, the scheduled state as the public
sees it, the forms that create and edit sessions and modules, and the downloads' apps named in French."""

from __future__ import annotations

import base64
import html
import re
import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from learning.config import Settings
from tests.helpers.accounts import Account, login
from tests.helpers.catalog import SERIES
from tests.helpers.database import sql
from tests.helpers.media import make_text, make_video
from tests.web.conftest import MODULE, VIDEO_LESSON, csrf_token, make_admin, sign_in

FIRST_SESSION = "2019-01-lancement-du-cycle"
ENGLISH = re.compile(r"\b(the|file|upload|cannot|must|failed|again)\b", re.IGNORECASE)


def _admin(web: TestClient[Any], settings: Settings) -> Account:
    admin = login(web, make_admin(settings))
    assert sign_in(web, admin.email).status_code == 303
    return admin


def _upload(web: TestClient[Any], admin: Account, target: str, name: str, data: bytes) -> str:
    metadata = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"filename": name, "target": target}.items()
    )
    created = web.post(
        "/api/v1/admin/uploads/", content=data,
        headers=admin.headers | {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)), "Upload-Metadata": metadata,
                                 "Content-Type": "application/offset+octet-stream"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return str(created.headers["location"]).rsplit("/", 1)[1]


def _wait(web: TestClient[Any], admin: Account, upload_id: str, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state: dict[str, Any] = web.get(f"/api/v1/admin/uploads/{upload_id}", headers=admin.headers).json()
        if state["status"] in states:
            return state
        time.sleep(0.1)  # polling the job, not a timing assertion
    raise AssertionError(f"upload {upload_id} never reached {states}")


def _row(page: str, row_id: str) -> str:
    found = re.search(rf'<tr id="{re.escape(row_id)}".*?</tr>', page, re.S)
    assert found, f"no row {row_id}"
    return found.group(0)


def _text(fragment: str) -> str:
    """What a fragment says, tags removed and spaces (no-break ones too) made plain."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)).replace("\u202f", " "))


def _session(web: TestClient[Any], admin: Account, slug: str) -> None:
    created = web.post(
        f"/api/v1/admin/webinars/{SERIES}/sessions",
        json={"slug": slug, "title": f"Séance {slug}", "scheduled_at": "2026-12-01T11:00:00+01:00"},
        headers=admin.headers,
    )
    assert created.status_code == 201, created.text


# --- failures: French, one sentence, and « Relancer » only when it can help ---------------------------------
def test_a_refused_file_is_explained_in_french_and_offers_no_retry(
    web: TestClient[Any], web_settings: Settings, tmp_path: Path
) -> None:
    admin = _admin(web, web_settings)
    _session(web, admin, "seance-refus")
    upload = _upload(web, admin, f"session:{SERIES}/seance-refus", "notes.mp4", make_text(tmp_path / "n").read_bytes())
    error = _wait(web, admin, upload, {"failed"})["error"]
    assert error == "Le fichier est du texte, ni audio ni vidéo : envoyez un fichier MP4, M4A, MOV, MP3 ou WebM."

    desk = web.get("/admin/").text
    row = _row(desk, f"session-{SERIES}-seance-refus")
    said = _text(row)
    assert "Le fichier est du texte, ni audio ni vidéo" in said
    assert not ENGLISH.search(said), said
    assert ".." not in said
    assert f"/admin/envois/{upload}/relancer" not in desk  # neither in the row nor among the recent uploads
    assert "Relancer n’y changerait rien : envoyez un fichier corrigé." in said
    assert "Relancer n’y changerait rien" in _text(_row(desk, f"envoi-{upload}"))
    # The API answers the same: a retry cannot help.
    assert web.post(f"/api/v1/admin/uploads/{upload}/retry", headers=admin.headers).status_code == 409


def test_retry_is_offered_for_a_stored_file_and_refused_once_its_session_is_gone(
    web: TestClient[Any], web_settings: Settings, tmp_path: Path
) -> None:
    admin = _admin(web, web_settings)
    _session(web, admin, "seance-disparue")
    target = f"session:{SERIES}/seance-disparue"
    upload = _upload(web, admin, target, "replay.mp4", make_video(tmp_path / "r.mp4", seconds=1.0).read_bytes())
    assert _wait(web, admin, upload, {"ready", "failed"})["status"] == "ready"
    url = web_settings.require_database_url()
    sql(url, "UPDATE upload SET status = 'failed', error = 'essai' WHERE id = $1::uuid", upload)
    assert f'action="/admin/envois/{upload}/relancer"' in _row(web.get("/admin/").text, f"envoi-{upload}")

    sql(url, "DELETE FROM webinar_session WHERE slug = 'seance-disparue'")
    assert f"/admin/envois/{upload}/relancer" not in web.get("/admin/").text
    refused = web.post(f"/api/v1/admin/uploads/{upload}/retry", headers=admin.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    page = web.post(f"/admin/envois/{upload}/relancer", data={"_csrf_token": csrf_token(web)})
    assert page.status_code == 409
    assert "envoyez-le à nouveau" in page.text


# --- unpublishing asks first; the message is where the admin acted ------------------------------------------
def test_unpublishing_asks_first_and_the_message_comes_back_in_the_row(
    web: TestClient[Any], web_settings: Settings
) -> None:
    _admin(web, web_settings)
    target = f"session:{SERIES}/{FIRST_SESSION}"
    row = _row(web.get("/admin/").text, f"session-{SERIES}-{FIRST_SESSION}")
    assert 'name="etat" value="draft"' not in row  # no button that unpublishes at once
    link = f'href="/admin/seances/{SERIES}/{FIRST_SESSION}/depublier"'
    assert link in row
    confirm = web.get(f"/admin/seances/{SERIES}/{FIRST_SESSION}/depublier")
    assert confirm.status_code == 200
    heading = re.search(r"<h1>(.*?)</h1>", confirm.text, re.S)
    assert heading
    assert _text(heading.group(1)).startswith("Dépublier « Lancement")
    assert 'name="etat" value="draft"' in confirm.text
    assert f'href="/admin/#session-{SERIES}-{FIRST_SESSION}">Annuler</a>' in confirm.text
    assert web.get(f"/webinaires/{SERIES}/{FIRST_SESSION}").status_code == 200  # asking changed nothing

    form = {"cible": target, "etat": "draft", "_csrf_token": csrf_token(web)}
    answer = web.post("/admin/publication", data=form, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith(f"#session-{SERIES}-{FIRST_SESSION}")
    desk = web.get(answer.headers["location"]).text
    row = _row(desk, f"session-{SERIES}-{FIRST_SESSION}")
    assert re.search(r'role="status"[^>]*>C’est dépublié', row), "the message is in the row acted on"
    assert desk.count('role="status"') == 1
    published = web.post("/admin/publication", data=form | {"etat": "published"}, follow_redirects=False)
    row = _row(web.get(published.headers["location"]).text, f"session-{SERIES}-{FIRST_SESSION}")
    assert re.search(r'role="status"[^>]*>C’est publié\.<', row)


def test_lessons_of_a_module_scheduled_for_later_are_shown_scheduled(
    web: TestClient[Any], web_settings: Settings
) -> None:
    admin = _admin(web, web_settings)
    schedule = {"state": "scheduled", "publish_at": "2099-01-12T10:00:00+01:00"}
    assert (
        web.put(f"/api/v1/admin/modules/{MODULE}/publication", json=schedule, headers=admin.headers).status_code == 200
    )
    try:
        assert web.get(f"/modules/{MODULE}/lecons/{VIDEO_LESSON}").status_code == 404
        said = _text(_row(web.get("/admin/").text, f"lesson-{MODULE}-{VIDEO_LESSON}"))
        assert "Programmé · le 12 janvier 2099 à 10 h 00" in said
        assert "avec le module" in said
        assert "Publié" not in said
        draft = {"state": "draft"}
        assert (
            web.put(f"/api/v1/admin/modules/{MODULE}/publication", json=draft, headers=admin.headers).status_code == 200
        )
        said = _text(_row(web.get("/admin/").text, f"lesson-{MODULE}-{VIDEO_LESSON}"))
        assert "Non visible" in said
        assert "le module est en brouillon" in said
    finally:
        restored = web.put(
            f"/api/v1/admin/modules/{MODULE}/publication", json={"state": "published"}, headers=admin.headers
        )
        assert restored.status_code == 200


# --- the forms ----------------------------------------------------------------------------------------------
def test_an_admin_creates_and_edits_a_session_through_the_form(web: TestClient[Any], web_settings: Settings) -> None:
    _admin(web, web_settings)
    form_page = web.get(f"/admin/seances/nouvelle?serie={SERIES}")
    assert form_page.status_code == 200
    assert f'<option value="{SERIES}" selected>' in form_page.text
    refused = web.post("/admin/seances/nouvelle", data={
        "_csrf_token": csrf_token(web), "serie": SERIES, "titre": "", "date": "2027-13-40", "heure": "11:00",
        "duree": "soixante", "resume": "Un résumé gardé", "intervenant-0-nom": "",
        "intervenant-0-organisation": "Le RAMEAU", "publication": "programme", "publication_date": "",
    })  # fmt: skip
    assert refused.status_code == 422
    page = refused.text
    for field, message in (
        ("titre", "Donnez un titre (300 caractères au plus)."),
        ("date", "Donnez la date de la séance, entre 1900 et 2200."),
        ("duree", "La durée est un nombre entier de minutes, de 1 à 1440."),
        ("intervenant-0-nom", "Chaque intervenant a un nom"),
        ("publication_date", "Pour programmer la publication, donnez sa date"),
    ):
        assert re.search(
            rf'id="{field}-erreur">{re.escape(message)}', page.replace("\u202f", " ").replace("\xa0", " ")
        ), field
        assert f'aria-describedby="{field}-erreur"' in page or f"{field}-aide {field}-erreur" in page, field
    assert ">Un résumé gardé</textarea>" in page  # what was typed is kept
    assert 'value="Le RAMEAU"' in page
    assert 'value="soixante"' in page

    created = web.post("/admin/seances/nouvelle", data={
        "_csrf_token": csrf_token(web), "serie": SERIES, "titre": "Retours d’expérience", "date": "2027-01-12",
        "heure": "11:00", "duree": "90", "statut": "upcoming", "resume": "Ce que les territoires en ont tiré.",
        "texte": "[Rejoindre la séance](https://visio.example.org/retours)",
        "intervenant-0-nom": "Une animatrice", "intervenant-0-organisation": "", "intervenant-0-role": "host",
        "mots_cles": "Retours, Expérience", "publication": "publie",
    }, follow_redirects=False)  # fmt: skip
    assert created.status_code == 303, created.text
    slug = "2027-01-retours-d-experience"
    assert created.headers["location"].endswith(f"#session-{SERIES}-{slug}")
    public = web.get(f"/api/v1/webinars/{SERIES}/sessions/{slug}").json()
    assert public["title"] == "Retours d’expérience"
    assert public["scheduled_at"].startswith("2027-01-12T10:00:00")  # 11:00 in Paris
    assert public["duration_minutes"] == 90
    assert public["speakers"] == [{"name": "Une animatrice", "organisation": "", "role": "host"}]
    assert public["tags"] == ["retours", "experience"]
    desk = web.get(created.headers["location"]).text
    assert re.search(r'role="status"[^>]*>La séance est créée', _row(desk, f"session-{SERIES}-{slug}"))

    again = web.post("/admin/seances/nouvelle", data={
        "_csrf_token": csrf_token(web), "serie": SERIES, "titre": "Retours d’expérience", "date": "2027-01-12",
        "heure": "11:00", "duree": "60", "publication": "brouillon",
    })  # fmt: skip
    assert again.status_code == 422
    assert 'id="adresse-erreur">Cette adresse est déjà prise' in again.text

    edit = web.get(f"/admin/seances/{SERIES}/{slug}/modifier")
    assert edit.status_code == 200
    assert 'value="Retours d’expérience"' in edit.text
    assert 'value="2027-01-12"' in edit.text
    assert 'value="11:00"' in edit.text
    assert 'value="Une animatrice"' in edit.text
    saved = web.post(f"/admin/seances/{SERIES}/{slug}/modifier", data={
        "_csrf_token": csrf_token(web), "titre": "Retours d’expérience, deuxième partie", "date": "2027-01-12",
        "heure": "14:30", "duree": "90", "statut": "upcoming", "intervenant-0-nom": "Une animatrice",
        "intervenant-0-role": "host", "publication": "brouillon",
    }, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert web.get(f"/api/v1/webinars/{SERIES}/sessions/{slug}").status_code == 404  # back to draft
    assert 'value="Retours d’expérience, deuxième partie"' in web.get(f"/admin/seances/{SERIES}/{slug}/modifier").text
    assert 'value="14:30"' in web.get(f"/admin/seances/{SERIES}/{slug}/modifier").text


def test_an_admin_creates_schedules_and_edits_a_module_through_the_form(
    web: TestClient[Any], web_settings: Settings
) -> None:
    _admin(web, web_settings)
    assert web.get("/admin/modules/nouveau").status_code == 200
    refused = web.post("/admin/modules/nouveau", data={
        "_csrf_token": csrf_token(web), "titre": "Mesurer l’impact", "adresse": "Mesurer L'impact", "ordre": "-1",
        "objectifs": "\n".join(f"Objectif {n}" for n in range(9)),
    })  # fmt: skip
    assert refused.status_code == 422
    for field in ("adresse", "ordre", "objectifs"):
        assert f'id="{field}-erreur"' in refused.text, field
    assert 'value="Mesurer l’impact"' in refused.text

    created = web.post("/admin/modules/nouveau", data={
        "_csrf_token": csrf_token(web), "titre": "Mesurer l’impact", "resume": "Évaluer une alliance.",
        "ordre": "9", "objectifs": "Choisir des indicateurs\nLes suivre", "publication": "programme",
        "publication_date": "2099-03-01", "publication_heure": "09:00",
    }, follow_redirects=False)  # fmt: skip
    assert created.status_code == 303, created.text
    assert created.headers["location"].endswith("#module-mesurer-l-impact")
    desk = web.get(created.headers["location"]).text
    item = desk[desk.index('id="module-mesurer-l-impact"') :]
    item = item[: item.index("</li>")]
    assert "Programmé · le 1er mars 2099 à 9 h 00" in _text(item)
    assert "Le module est créé." in item
    assert web.get("/api/v1/modules/mesurer-l-impact").status_code == 404  # scheduled for later

    edit = web.get("/admin/modules/mesurer-l-impact/modifier")
    assert ">Choisir des indicateurs\nLes suivre</textarea>" in edit.text
    assert 'id="publication-programme" name="publication" value="programme" checked' in edit.text
    saved = web.post("/admin/modules/mesurer-l-impact/modifier", data={
        "_csrf_token": csrf_token(web), "titre": "Mesurer l’impact d’une alliance", "ordre": "9",
        "publication": "publie",
    }, follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303
    module = web.get("/api/v1/modules/mesurer-l-impact").json()
    assert module["title"] == "Mesurer l’impact d’une alliance"
    assert module["objectives"] == []  # the form's fields are the module's: an emptied one is emptied


def test_the_forms_need_an_admin_and_their_csrf_token(web: TestClient[Any], web_settings: Settings) -> None:
    form = {"serie": SERIES, "titre": "Intrusion", "date": "2027-01-12", "heure": "11:00", "publication": "publie"}
    assert web.post("/admin/seances/nouvelle", data=form, follow_redirects=False).status_code == 403  # no token
    _admin(web, web_settings)
    assert web.post("/admin/seances/nouvelle", data=form, follow_redirects=False).status_code == 403
    assert web.get(f"/api/v1/webinars/{SERIES}/sessions/2027-01-intrusion").status_code == 404


# --- downloads ----------------------------------------------------------------------------------------------
def test_the_downloads_page_names_listening_apps_in_french(web: TestClient[Any], web_settings: Settings) -> None:
    replay = web.get(f"/api/v1/webinars/{SERIES}/sessions/{FIRST_SESSION}").json()["replay"]
    insert = (
        "INSERT INTO media_download (asset_id, listener, window_start, counted_at, app, day) "
        "VALUES ($1::uuid, md5(random()::text), now(), now(), $2, current_date)"
    )
    url = web_settings.require_database_url()
    for app in ("Web browser", "Web browser", "Other", "AntennaPod"):
        sql(url, insert, replay["id"], app)
    _admin(web, web_settings)
    page = web.get(f"/admin/telechargements/{replay['id']}").text
    assert "<td>Navigateur web</td><td>2</td>" in page
    assert "<td>Autre application</td><td>1</td>" in page
    assert "Web browser" not in page
    assert ">Other<" not in page
