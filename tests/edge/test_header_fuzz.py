"""Garbage in the headers the edge and the routes read (Accept-Encoding, Range, If-*): huge numbers, non-ASCII
digits, broken q-values and dates never give a 5xx or a traceback in the log, on cached feeds, catalog
answers and media alike."""

from __future__ import annotations

import logging
import random

import pytest

from learning.lib.http_ranges import accepts_gzip, parse_ranges
from tests.edge.conftest import Pair

# Building blocks of hostile headers; a seeded generator combines them (the same requests every run).
NUMBERS = ["0", "1", "499", "1000000", "9" * 19, "1" * 40, "9" * 4301, "\u00b2", "\u0663", "\uff11", "1\u00b2", "",
           " ", "-", "0x10", "1e3", "+5", "-0"]  # fmt: skip
QVALUES = ["", ";q=0", ";q=1", ";q=0.5", ";q=abc", ";q=", ";q=1.5", ";q=-1", ";Q=0", ";q=0.0001", ";q=" + "1" * 5000]
CODINGS = ["gzip", "x-gzip", "*", "br", "identity", "GZIP", "", "gzip;", ";", "\u00e9"]
DATES = ["Tue, 01 Jan 2019 00:00:00 GMT", "Fri, 31 Dec 99999 23:59:59 GMT", "Mon, 99 Foo 2019 GMT", "0", "9" * 4301,
         "Tue, 01 Jan 2019 00:00:00", "\u00b2"]  # fmt: skip
JUNK = ["", " ", ",", '"', "W/", "*", "\x00", "\u00e9t\u00e9", "bytes=", "=", ";", "\\"]


def _garbage(rng: random.Random) -> dict[str, str]:
    def number() -> str:
        return rng.choice(NUMBERS)

    def one_range() -> str:
        return rng.choice([f"{number()}-{number()}", f"-{number()}", f"{number()}-", rng.choice(JUNK)])

    def etag() -> str:
        return rng.choice(
            [f'"{number()}"', f'W/"{number()}"', "*", rng.choice(JUNK), f'"{number()}", {rng.choice(JUNK)}']
        )

    makers = {
        "accept-encoding": lambda: ", ".join(
            rng.choice(CODINGS) + rng.choice(QVALUES) for _ in range(rng.randint(0, 4))
        ),
        "range": lambda: (
            rng.choice(["bytes=", "Bytes=", "pages=", ""])
            + ",".join(one_range() for _ in range(rng.choice([1, 1, 2, 17, 70])))
        ),
        "if-range": lambda: rng.choice([etag(), rng.choice(DATES)]),
        "if-none-match": etag,
        "if-match": etag,
        "if-modified-since": lambda: rng.choice(DATES),
        "if-unmodified-since": lambda: rng.choice(DATES),
    }
    chosen = rng.sample(sorted(makers), rng.randint(1, 4))
    return {name: makers[name]() for name in chosen}


def _raw(value: str) -> bytes:
    return value.encode("utf-8") if any(ord(c) > 255 for c in value) else value.encode("latin-1")


@pytest.mark.parametrize("target", ["feed", "catalog", "media"])
def test_garbage_headers_never_give_a_5xx_or_a_traceback(
    pair: Pair, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = {"feed": pair.documents[-1], "catalog": pair.documents[1], "media": pair.media}[target]
    caplog.set_level(logging.WARNING)
    rng = random.Random(f"edge-{target}")
    for _ in range(300):
        sent = _garbage(rng)
        method = rng.choice(["GET", "HEAD"])
        raw = {name: _raw(value) for name, value in sent.items()}
        response = pair.on.request(method, path, headers={"accept-encoding": b"", **raw})
        assert response.status_code < 500, (method, sent, response.text[:200])
    noisy = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info or r.name == "learning.edge"]
    assert noisy == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0", False),
        ("gzip;q=0.000", False),
        ("*;q=1, gzip;q=0", False),  # named codings win over the wildcard
        ("gzip;q=0, *", False),
        ("*;q=0", False),
        ("gzip;q=0.001", True),
        ("gzip;q=abc", False),  # a malformed weight: the element is ignored
        ("gzip;q=1.5", False),
        ("gzip;q=abc, *", True),
        ("identity, br", False),
        ("", False),
        (None, False),
    ],
)
def test_accept_encoding_follows_rfc_9110_q_values(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-" + "9" * 4301,  # int() refuses more than 4,300 digits: was a 500
        "bytes=" + "1" * 19 + "-",
        "bytes=\u00b2-5",  # a superscript two is no ASCII digit
        "bytes=\u0661-\u0665",  # Arabic-Indic digits
        "bytes=0-\uff15",  # a fullwidth five
    ],
)
def test_range_numbers_are_bounded_ascii_digits_else_the_header_is_ignored(header: str) -> None:
    assert parse_ranges(header, 1000) is None
