"""The instance's signing key for credentials (ES256, a P-256 key): configured (``LEARNING_CREDENTIAL_KEY``, a
private JWK), or generated once and kept in ``data_dir/credential_key.jwk`` (mode 0600), as the token secret is.
Only its public half leaves the process (``/.well-known/jwks.json``); the private key is never logged."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from learning.config import Settings

ALGORITHM = "ES256"  # P-256: every JOSE library verifies it (Open Badges 3.0 leaves the algorithm to the issuer)
KEY_FILE = "credential_key.jwk"


class CredentialKeyError(Exception):
    """The configured or stored key cannot be used (not a private P-256 JWK)."""


@dataclass(frozen=True, slots=True)
class InstanceKey:
    key: ECKey = field(repr=False)  # never in a repr, so never in a log line by accident
    kid: str

    def public_jwk(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {**public, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk()]}


def instance_key(settings: Settings) -> InstanceKey:
    """The key from the settings, or from the data folder (generated there the first time)."""
    if settings.credential_key is not None and settings.credential_key.get_secret_value():
        return _loaded(settings.credential_key.get_secret_value(), "LEARNING_CREDENTIAL_KEY")
    path = settings.data_dir / KEY_FILE
    if not path.exists():
        _generate(path)
    return _loaded(path.read_text(encoding="utf-8"), str(path))


def _generate(path: Path) -> None:
    """Write a new key where none is; two processes starting at once keep the first one written (a link
    refuses to replace a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(ECKey.generate_key("P-256", private=True).as_dict(private=True), file)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process wrote it first: that one is the key
    finally:
        draft.unlink()


def _loaded(text: str, origin: str) -> InstanceKey:
    try:
        key = ECKey.import_key(json.loads(text))
    except (ValueError, TypeError, JoseError) as exc:
        raise CredentialKeyError(f"{origin}: not a P-256 private JWK") from exc
    if not key.is_private or key.as_dict(private=False).get("crv") != "P-256":
        raise CredentialKeyError(f"{origin}: not a P-256 private JWK")
    return InstanceKey(key=key, kid=key.thumbprint())
