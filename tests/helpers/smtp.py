"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the e-mail tests."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.helpers.live import free_port


class Inbox:
    """Every message the server accepted, parsed. ``ignored``: subjects a test about other messages leaves out of
    ``to`` and ``wait_for`` (the link confirming a new account's address, for one)."""

    def __init__(self, ignored: Collection[str] = ()) -> None:
        self.messages: list[EmailMessage] = []
        self.ignored = frozenset(ignored)
        self._changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message for message in self.messages if message["To"] == address and message["Subject"] not in self.ignored
        ]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        """The messages to ``address`` once there are ``count`` (waits at most ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{count} message(s) to {address} never came: {len(self.to(address))}")
                self._changed.wait(left)
            return self.to(address)


@contextmanager
def smtp_server(ignored: Collection[str] = ()) -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox(ignored)
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())
