"""Composing a message: a French template pair (``<name>.txt`` and ``<name>.html``) rendered into an RFC 5322
message with a plain-text part and an HTML alternative."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class Composed:
    recipient: str
    subject: str
    content: bytes  # the whole message, as sent


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(template: str, *, sender: str, recipient: str, subject: str, **context: Any) -> Composed:
    """The message ``template`` for ``recipient``: its text part, its HTML alternative, a Message-ID."""
    environment = _environment()
    values = {"subject": subject, **context}
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(environment.get_template(f"{template}.txt").render(values))
    message.add_alternative(environment.get_template(f"{template}.html").render(values), subtype="html")
    return Composed(recipient=recipient, subject=subject, content=bytes(message))
