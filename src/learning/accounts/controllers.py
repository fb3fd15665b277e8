"""HTTP endpoints: /api/v1/auth (public) and /api/v1/me (the signed-in user)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from learning.accounts.addresses import AddressConfirmations
from learning.accounts.auth import CurrentUser, client_ip, issue_token, token_id
from learning.accounts.deps import (
    provide_account_service,
    provide_address_confirmations,
    provide_password_resets,
    requires_registrations_left,
)
from learning.accounts.resets import RESET_REQUESTED, PasswordResets
from learning.accounts.schemas import (
    EmailChange,
    EmailConfirm,
    LinkSent,
    LoginRequest,
    PasswordChange,
    PasswordResetConfirm,
    PasswordResetRequest,
    PasswordResetRequested,
    RegisterRequest,
    TokenRead,
    UserRead,
    user_read,
)  # fmt: skip
from learning.accounts.services import AccountService
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.guards import requires_json_body


def _token_read(state: State, user: m.UserAccount) -> TokenRead:
    lifetime = int(state.jwt_auth.default_token_expiration.total_seconds())
    return TokenRead(
        access_token=issue_token(state.jwt_auth, user),
        expires_in=lifetime,
        expires_at=utcnow() + timedelta(seconds=lifetime),
    )


CONFIRMATION_SENT = "A link is on its way to this address: the account moves to it when the link is opened."
VERIFICATION_SENT = "A link is on its way to the account's address: opening it confirms the address."


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["accounts"]
    guards = [requires_json_body]
    dependencies = {
        "accounts": Provide(provide_account_service, sync_to_thread=False),
        "confirmations": Provide(provide_address_confirmations, sync_to_thread=False),
    }
    opt = {"exclude_from_auth": True}

    @post(
        "/register", status_code=HTTP_201_CREATED, operation_id="Register", guards=[requires_registrations_left],
        opt={"problems": [409, 429]},
    )  # fmt: skip
    async def register(
        self,
        data: JSONBody[RegisterRequest],
        accounts: NamedDependency[AccountService],
        confirmations: NamedDependency[AddressConfirmations],
        request: Request[Any, Any, Any],
    ) -> UserRead:
        """Create a learner account (registrations are limited per client: 429 with Retry-After); a link to
        confirm its address is e-mailed to it."""
        user = await accounts.register(
            email=data.email, password=data.password, display_name=data.display_name, client_ip=client_ip(request)
        )
        await confirmations.welcome(user)
        return user_read(user)

    @post("/email-confirmation", status_code=HTTP_200_OK, operation_id="ConfirmEmail", opt={"problems": [409, 422]})
    async def confirm_email(
        self, data: JSONBody[EmailConfirm], confirmations: NamedDependency[AddressConfirmations]
    ) -> UserRead:
        """Open a confirmation link (once, before it expires; no sign-in needed): the account's address is the
        link's and is confirmed. 409 if another account took that address meanwhile."""
        return user_read(await confirmations.confirm(data.token))

    @post(
        "/password-reset", status_code=HTTP_202_ACCEPTED, operation_id="RequestPasswordReset",
        dependencies={"resets": Provide(provide_password_resets, sync_to_thread=False)}, opt={"problems": [429]},
    )  # fmt: skip
    async def request_password_reset(
        self,
        data: JSONBody[PasswordResetRequest],
        resets: NamedDependency[PasswordResets],
        request: Request[Any, Any, Any],
    ) -> PasswordResetRequested:
        """E-mail a single-use link to choose a new password, if the address has an account. The answer is the
        same either way (limited per client and per address: 429 with Retry-After)."""
        await resets.request(data.email, client_ip(request))
        return PasswordResetRequested(RESET_REQUESTED)

    @post(
        "/password-reset/confirm", status_code=HTTP_204_NO_CONTENT, operation_id="ConfirmPasswordReset",
        dependencies={"resets": Provide(provide_password_resets, sync_to_thread=False)}, opt={"problems": [422]},
    )  # fmt: skip
    async def confirm_password_reset(
        self, data: JSONBody[PasswordResetConfirm], resets: NamedDependency[PasswordResets]
    ) -> None:
        """Set a new password with the link's token (once, before it expires); every session of the account ends."""
        await resets.reset(data.token, data.password)

    @post("/login", status_code=HTTP_200_OK, operation_id="Login", opt={"problems": [401, 429]})
    async def login(
        self,
        data: JSONBody[LoginRequest],
        accounts: NamedDependency[AccountService],
        request: Request[Any, Any, Any],
        state: State,
    ) -> TokenRead:
        """Exchange an e-mail and a password for a bearer token."""
        user = await accounts.authenticate(email=data.email, password=data.password, client_ip=client_ip(request))
        return _token_read(state, user)


class MeController(Controller):
    path = "/api/v1/me"
    tags = ["accounts"]
    guards = [requires_json_body]
    dependencies = {
        "accounts": Provide(provide_account_service, sync_to_thread=False),
        "confirmations": Provide(provide_address_confirmations, sync_to_thread=False),
    }

    @get("/", operation_id="GetMe")
    async def me(self, request: Request[CurrentUser, Any, Any], accounts: NamedDependency[AccountService]) -> UserRead:
        """The signed-in account."""
        return user_read(await accounts.get(request.user.id))

    @put("/password", operation_id="ChangePassword", opt={"problems": [409, 429]})
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        request: Request[CurrentUser, Any, Any],
        accounts: NamedDependency[AccountService],
        state: State,
    ) -> TokenRead:
        """Change the password; tokens issued before stop working, and a fresh token is returned. Wrong current
        passwords are limited per account and per client (429 with Retry-After)."""
        user = await accounts.change_password(
            request.user.id, current=data.current_password, new=data.new_password, client_ip=client_ip(request)
        )
        return _token_read(state, user)

    @put("/email", status_code=HTTP_202_ACCEPTED, operation_id="ChangeEmail", opt={"problems": [409, 422, 429]})
    async def change_email(
        self,
        data: JSONBody[EmailChange],
        request: Request[CurrentUser, Any, Any],
        confirmations: NamedDependency[AddressConfirmations],
    ) -> LinkSent:
        """Move the account to a new address: a link goes to it (and a notice to the present one); the account
        keeps its address until the link is opened. The password is asked again (wrong ones: 401, limited per
        account and per client: 429); an address another account has: 409."""
        email = await confirmations.request_change(
            request.user.id, new_email=data.email, password=data.password, client_ip=client_ip(request)
        )
        return LinkSent(CONFIRMATION_SENT, email)

    @post(
        "/email/verification", status_code=HTTP_202_ACCEPTED, operation_id="SendEmailVerification",
        opt={"problems": [409, 429]},
    )  # fmt: skip
    async def send_verification(
        self, request: Request[CurrentUser, Any, Any], confirmations: NamedDependency[AddressConfirmations]
    ) -> LinkSent:
        """E-mail a new link confirming the account's address (409 once confirmed; limited per account: 429)."""
        await confirmations.request_verification(request.user.id)
        return LinkSent(VERIFICATION_SENT, request.user.email)

    @post("/sign-out", status_code=HTTP_204_NO_CONTENT, operation_id="SignOut")
    async def sign_out(
        self, request: Request[CurrentUser, Token, Any], accounts: NamedDependency[AccountService]
    ) -> None:
        """Revoke the token of this request, in every process, until it expires."""
        await accounts.sign_out(request.user.id, jti=token_id(request.auth), expires_at=request.auth.exp)

    @post("/sign-out-everywhere", status_code=HTTP_204_NO_CONTENT, operation_id="SignOutEverywhere")
    async def sign_out_everywhere(
        self, request: Request[CurrentUser, Any, Any], accounts: NamedDependency[AccountService]
    ) -> None:
        """Revoke every token of the account (every device, the pages included)."""
        await accounts.sign_out_everywhere(request.user.id)
