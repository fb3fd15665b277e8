"""Composing a message: a French template pair (``<name>.txt`` and ``<name>.html``) rendered into an RFC 5322
message with a plain-text part and an HTML alternative."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any

import jinja2

from learning.lib.dates import date_fr, datetime_fr

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    mime_type: str  # e.g. text/calendar; method=PUBLISH
    content: bytes


@dataclass(frozen=True, slots=True)
class Composed:
    recipient: str
    subject: str
    content: bytes  # the whole message, as sent


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    environment.filters.update(date_fr=date_fr, datetime_fr=datetime_fr)
    return environment


def compose(
    template: str,
    *,
    sender: str,
    recipient: str,
    subject: str,
    attachments: Sequence[Attachment] = (),
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Composed:
    """The message ``template`` for ``recipient``: its text part, its HTML alternative, a Message-ID, then
    ``attachments`` and extra ``headers`` (List-Unsubscribe…)."""
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
    for name, value in (headers or {}).items():
        message[name] = value
    for attachment in attachments:
        maintype, _, rest = attachment.mime_type.partition("/")
        subtype, _, parameters = rest.partition(";")
        params = dict(part.strip().split("=", 1) for part in parameters.split(";") if "=" in part)
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype.strip(), filename=attachment.filename, params=params
        )
    return Composed(recipient=recipient, subject=subject, content=bytes(message))
