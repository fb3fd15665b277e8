"""French typography by code (lib/typography.py): each rule, what it never touches, and that it is idempotent."""

from __future__ import annotations

import pytest

from learning.lib.typography import NBSP, NNBSP, french_html, french_text


@pytest.mark.parametrize(
    ("written", "typeset"),
    [
        ("Pourquoi ?", f"Pourquoi{NNBSP}?"),
        ("Pourquoi?", f"Pourquoi{NNBSP}?"),
        ("Enfin !", f"Enfin{NNBSP}!"),
        ("un ; deux", f"un{NNBSP}; deux"),
        ("Quoi ?!", f"Quoi{NNBSP}?!"),
        ("Attention : ceci", f"Attention{NBSP}: ceci"),
        ("Attention: ceci", f"Attention{NBSP}: ceci"),
        ("mot\n: suite", f"mot{NBSP}: suite"),
        ("« citation »", f"«{NNBSP}citation{NNBSP}»"),
        ("«citation»", f"«{NNBSP}citation{NNBSP}»"),
        ("«\ncitation\n»", f"«{NNBSP}citation{NNBSP}»"),
        (f"«{NBSP}citation{NBSP}»", f"«{NNBSP}citation{NNBSP}»"),
        ('il a dit "oui" hier', f"il a dit «{NNBSP}oui{NNBSP}» hier"),
        ("« Il a dit « oui » puis « non » »", f"«{NNBSP}Il a dit “oui” puis “non”{NNBSP}»"),
        ('« Il a dit "oui" »', f"«{NNBSP}Il a dit “oui”{NNBSP}»"),
        ("« « a » et « b » » puis « c »", f"«{NNBSP}“a” et “b”{NNBSP}» puis «{NNBSP}c{NNBSP}»"),
        ("l'État qu'il aujourd'hui", "l’État qu’il aujourd’hui"),
        ("à 11 h 00", f"à 11{NBSP}h{NBSP}00"),
        ("à 11h00", f"à 11{NBSP}h{NBSP}00"),
        ("56 % des", f"56{NBSP}% des"),
        ("56% des", f"56{NBSP}% des"),
        ("12,5 km", f"12,5{NBSP}km"),
        ("3 min 05 s", f"3{NBSP}min 05{NBSP}s"),
        ("10 000 personnes", f"10{NNBSP}000 personnes"),
        ("1 250 000 €", f"1{NNBSP}250{NNBSP}000{NBSP}€"),
    ],
)
def test_french_text_applies_each_rule(written: str, typeset: str) -> None:
    assert french_text(written) == typeset


@pytest.mark.parametrize(
    "untouched",
    [
        "https://exemple.fr/page?x=1;y=2",
        "voir http://exemple.fr:8080/a?b",
        "mailto:contact@exemple.fr",
        "écrire à contact@exemple.fr",
        "à 12:30 précises",
        "le 2019-01-24T11:00:00+01:00",
        "en 2019, 2018 et 75001 Paris",
        "a:b et a?b=c",
        "2 l’an",
        "'simple'",
        "Tom &amp; Jerry &#39;x&#39; &eacute;",
    ],
)
def test_french_text_leaves_urls_clocks_and_codes_alone(untouched: str) -> None:
    assert french_text(untouched) == untouched


def test_french_text_spaces_a_mark_after_a_url_without_changing_the_url() -> None:
    assert french_text("voir https://exemple.fr/a?b ; ou") == f"voir https://exemple.fr/a?b{NNBSP}; ou"


def test_french_html_changes_text_nodes_only() -> None:
    page = (
        '<p title="Titre : x ?" data-x="l\'a">Bonjour : <a href="https://exemple.fr/a?b=c:d">lien</a> ?</p>'
        "<img alt=\"« a »\" src='/x?y=1'>"
    )
    assert french_html(page) == (
        f'<p title="Titre : x ?" data-x="l\'a">Bonjour{NBSP}: <a href="https://exemple.fr/a?b=c:d">lien</a>{NNBSP}?</p>'
        "<img alt=\"« a »\" src='/x?y=1'>"
    )


@pytest.mark.parametrize("tag", ["code", "kbd", "samp", "textarea"])
def test_french_html_leaves_code_and_fields_alone(tag: str) -> None:
    page = f"<p>Écrire <{tag}>a : b ? 'c' « d » 11 h 00</{tag}> !</p>"
    assert french_html(page) == f"<p>Écrire <{tag}>a : b ? 'c' « d » 11 h 00</{tag}>{NNBSP}!</p>"


@pytest.mark.parametrize("marked", ['translate="no"', 'lang="en"', 'lang="en-GB"'])
def test_french_html_leaves_elements_marked_as_not_french_alone(marked: str) -> None:
    page = f"<p>Fichier <span {marked}>l'essai : <span>« 1 »</span> ?.mp4</span> !</p>"
    assert french_html(page) == f"<p>Fichier <span {marked}>l'essai : <span>« 1 »</span> ?.mp4</span>{NNBSP}!</p>"
    assert french_html('<p lang="fr-CA">Quoi ?</p>') == f'<p lang="fr-CA">Quoi{NNBSP}?</p>'


def test_french_html_leaves_preformatted_blocks_alone() -> None:
    page = "<pre><code>if a : b ? 'c' « d » 11 h 00\n  12:30 ;-)</code></pre>\n<pre>x ; y</pre>"
    assert french_html(page) == page


def test_french_html_leaves_scripts_and_styles_byte_for_byte() -> None:
    page = '<script>if (a < b && c) { x = "d : e ?"; }</script><style>a::before { content: "« »"; }</style>'
    assert french_html(page) == page


def test_french_html_keeps_the_markup_and_the_escaping() -> None:
    page = (
        '<!DOCTYPE html>\n<html lang="fr"><!-- note : x --><body><p>a &amp; b &lt;c&gt;<br/>d &#233;t&eacute;</p>'
        '<p data-x="a > b : c">x</p><code>&#34;a&#34; : &#39;b&#39;</code><SCRIPT>a = "<p>b : c</p>";</SCRIPT>'
        "</body></html>"
    )
    assert french_html(page) == page


def test_french_html_sees_marks_across_inline_tags() -> None:
    assert french_html("<p>Vraiment <em>vrai</em>?</p>") == f"<p>Vraiment <em>vrai</em>{NNBSP}?</p>"
    assert french_html("<p>« Il a dit <em>« oui »</em> »</p>") == f"<p>«{NNBSP}Il a dit <em>“oui”</em>{NNBSP}»</p>"


def test_french_html_starts_quotes_afresh_in_each_paragraph() -> None:
    page = "<p>« non fermé</p><p>« a »</p>"
    assert french_html(page) == f"<p>«{NNBSP}non fermé</p><p>«{NNBSP}a{NNBSP}»</p>"


def test_french_html_decodes_entities_in_text() -> None:
    assert french_html("<p>l&#39;apostrophe &quot;ici&quot; :</p>") == f"<p>l’apostrophe «{NNBSP}ici{NNBSP}»{NBSP}:</p>"


SAMPLES = [
    "Bonjour : ça va ? « Oui « vraiment » ! » l'a dit à 11 h 00 ; 56 % et 10 000 — https://x.fr/a?b",
    '<p>« a <em>« b »</em> » : "c" ; d\'e ?</p><pre>x : y</pre><p>12:30 ; mailto:a@b.fr !</p>',
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_typography_is_idempotent(sample: str) -> None:
    once = french_html(sample)
    assert french_html(once) == once
    once_text = french_text(sample)
    assert french_text(once_text) == once_text
