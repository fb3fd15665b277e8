"""The quiz in the pages, without JavaScript: a form of radio buttons, check boxes and a text field, the answers
never in the page before sending; the result says what was right, with the feedback and the lesson to re-read."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.quizzes.conftest import SECRETS, SLUG
from tests.web.conftest import csrf_token, sign_up

PAGE = f"/modules/{SLUG}/quiz"


def _send(client: TestClient[Any], fields: list[tuple[str, str]]) -> Any:
    body = [*fields, ("_csrf_token", csrf_token(client, PAGE))]
    return client.post(PAGE, content="&".join(f"{k}={v}" for k, v in body).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


def test_a_learner_answers_the_quiz_in_the_page_and_reads_the_feedback(
    client: TestClient[Any], course: dict[str, str]
) -> None:
    sign_up(client)
    module = client.get(f"/modules/{SLUG}").text
    assert f'href="{PAGE}"' in module
    # Not enrolled yet: the form says so rather than counting an attempt.
    refused = _send(client, [("q-annee", "b")])
    assert refused.status_code == 409
    assert "Inscrivez-vous d’abord au module" in refused.text
    enrolled = client.post(f"/modules/{SLUG}/inscription", data={"_csrf_token": csrf_token(client, f"/modules/{SLUG}")})
    assert enrolled.status_code == 200
    form = client.get(PAGE)
    assert form.status_code == 200
    assert 'type="radio"' in form.text
    assert 'type="checkbox"' in form.text
    assert 'name="q-partenaire"' in form.text
    for secret in SECRETS:
        assert secret not in form.text
    result = _send(client, [("q-annee", "b"), ("q-acteurs", "asso"), ("q-acteurs", "elus"),
                            ("q-partenaire", "caisse+des+depots")])  # fmt: skip
    assert result.status_code == 200
    assert "4 points sur 4" in result.text
    assert "quiz réussi" in result.text
    assert "SECRET-RETOUR-B" in result.text
    assert f'href="/modules/{SLUG}/lecons/seconde"' in result.text
    # A second try, partly wrong: its own verdict, and the attempts are listed on the quiz page.
    second = _send(client, [("q-annee", "b")])
    assert "1 point sur 4" in second.text
    assert "pas encore réussi" in second.text
    listed = client.get(PAGE).text
    assert "Tentative 1" in listed
    assert "Tentative 2" in listed
    assert "Il vous reste 1 tentative." in listed
