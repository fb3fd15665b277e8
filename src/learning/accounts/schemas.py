"""Request and response bodies of the accounts API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from learning.db import models as m
from learning.db.models import Role
from learning.lib.openapi import STORABLE_TEXT, from_settings

# The pattern only documents the check the account service makes once the address is normalised (NFKC,
# trimmed, case-folded); msgspec does not enforce it, so the service's 422 stays the one answer.
EMAIL_PATTERN = r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]{2,}$"
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=320,
        description="E-mail address",
        extra_json_schema={"extra": {"pattern": EMAIL_PATTERN}},
    ),
]
MAX_PASSWORD_LENGTH = 1024  # hashing cost grows with the length: bounded for every password sent
# A password to check against the stored hash (login, the current password): any length the policy once allowed.
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
# A password to set: the service applies the policy (passwords.password_problem) with the configured minimum
# length, which the schema documents from the same setting.
NewPassword = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_PASSWORD_LENGTH,
        description="At least the configured length; not a common password, not the e-mail address",
        extra=from_settings(min_length="password_min_length"),
    ),
]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120, extra_json_schema=STORABLE_TEXT)]


class RegisterRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: NewPassword


class PasswordResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class PasswordResetConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    password: NewPassword


class PasswordResetRequested(msgspec.Struct):
    detail: str


class EmailChange(msgspec.Struct, forbid_unknown_fields=True):
    email: Email  # the new address: a link goes there, and the account moves to it when the link is opened
    password: Password


class EmailConfirm(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LinkSent(msgspec.Struct):
    detail: str
    email: str  # where the link went


class TokenRead(msgspec.Struct):
    access_token: str
    expires_at: datetime
    expires_in: int
    token_type: str = "bearer"  # noqa: S105 — the OAuth 2 token type, not a secret


class UserRead(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: Role
    display_name: str | None
    created_at: datetime
    email_verified_at: datetime | None  # when a link sent to ``email`` was opened (None: not yet)


def user_read(user: m.UserAccount) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        role=user.role,
        display_name=user.display_name,
        created_at=user.created_at,
        email_verified_at=user.email_verified_at,
    )
