"""Who the client is: ``X-Forwarded-For`` and ``X-Forwarded-Proto`` believed only from trusted proxies.

``LEARNING_TRUSTED_PROXIES`` alone decides. The servers are started with their own proxy-header handling off
(cli.py), and this ASGI layer, in front of everything else, puts the forwarded client address and scheme into
the scope when the connection comes from a trusted proxy: the same answer under granian and uvicorn, with
one worker or many. Rate limits, download counting and the access log then read ``scope["client"]``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_MAX_HOPS = 32  # a longer chain is read from its right end only
_MAX_HEADER = 4096


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class ForwardedHeaders:
    """The ASGI layer (see the module's docstring)."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.app = app
        self.trusted: tuple[_Network, ...] = tuple(ipaddress.ip_network(t, strict=False) for t in trusted)

    def _is_trusted(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client: walking the chain from the right, the first address that is not a trusted proxy."""
        client = peer
        if len(forwarded_for) > _MAX_HEADER:
            return client
        for hop in reversed(forwarded_for.split(",")[-_MAX_HOPS:]):
            address = _address(hop)
            if address is None:
                break  # not an address: nothing to its left can be believed
            client = str(address)
            if not self._is_trusted(address):
                break
        return client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client") if scope["type"] == ScopeType.HTTP else None
        if peer is None or not self.trusted or not self._is_trusted(_address(str(peer[0]))):
            await self.app(scope, receive, send)
            return
        forwarded_for: list[str] = []
        proto = ""
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
        changed: dict[str, Any] = dict(scope)
        if forwarded_for:
            changed["client"] = (self.client(str(peer[0]), ",".join(forwarded_for)), 0)
        if proto in {"http", "https"}:
            changed["scheme"] = proto
        await self.app(changed, receive, send)  # type: ignore[arg-type]
