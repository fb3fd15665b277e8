"""Sign-in, sign-up and « Mon compte »: enrollments, progress and the private feed token; the learner's
form actions (enroll, unenroll, mark a text lesson done). Every form carries the CSRF token."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from learning.accounts.addresses import (
    AddressConfirmations,
    AlreadyVerified,
    BadConfirmationLink,
    EmailNotVerified,
    SameEmail,
)
from learning.accounts.auth import CurrentUser, client_ip, issue_token, session_token, token_id
from learning.accounts.deps import provide_account_service, provide_address_confirmations, provide_password_resets
from learning.accounts.resets import BadResetLink, PasswordResets
from learning.accounts.services import AccountService, EmailTaken, InvalidCredentials, LastAdmin, WeakPassword
from learning.catalog.deps import provide_catalog_service
from learning.catalog.services import CatalogService
from learning.db import models as m
from learning.feeds.deps import provide_feed_service
from learning.feeds.services import FeedService
from learning.lib.clock import utcnow
from learning.lib.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from learning.me.deps import provide_account_export
from learning.me.services import AccountExport
from learning.progress.deps import provide_enrollment_service, provide_progress_service
from learning.progress.events import Event, ProgressService
from learning.progress.services import EnrollmentService
from learning.registrations.deps import provide_registration_service
from learning.registrations.services import RegistrationService
from learning.web.deps import provide_viewer
from learning.web.security import (
    PENDING_ACTION,
    expired_session_cookie,
    pending_action,
    requires_signed_in,
    safe_next,
    session_cookie,
)
from learning.web.templating import Flash, done_flash, page, see_other
from learning.web.views import module_marks, page_route


class SignInForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    suite: str = "/"
    reprendre: str = ""  # an action an expired session stopped (see pending_action)


class SignUpForm(msgspec.Struct):
    email: str = ""
    password: str = ""
    display_name: str = ""
    suite: str = "/"


class ForgotForm(msgspec.Struct):
    email: str = ""


class ResetForm(msgspec.Struct):
    password: str = ""


class DeletionForm(msgspec.Struct):
    password: str = ""


class EmailForm(msgspec.Struct):
    email: str = ""
    password: str = ""


class PasswordForm(msgspec.Struct):
    current: str = ""
    new: str = ""


class FeedTokenForm(msgspec.Struct):
    action: Literal["create", "revoke"] = "create"


def _signed_in(state: State, user: m.UserAccount, target: str) -> Redirect:
    lifetime = int(state.jwt_auth.default_token_expiration.total_seconds())
    cookie = session_cookie(issue_token(state.jwt_auth, user), state.settings, lifetime)
    return see_other(safe_next(target), cookies=[cookie])


async def _enroll(enrollments: EnrollmentService, user_id: uuid.UUID, slug: str) -> str:
    """Enroll; where to go next (the module, saying it is done)."""
    await enrollments.enroll(user_id, slug)
    return f"/modules/{slug}?fait=inscrit"


async def _mark_done(
    catalog: CatalogService, progress: ProgressService, user_id: uuid.UUID, slug: str, lesson_slug: str
) -> str:
    """Mark a text lesson done; where to go next (the following lesson, or the module after the last)."""
    lesson = await catalog.lesson(slug, lesson_slug)
    event = Event(id=uuid.uuid4(), kind=m.EventKind.COMPLETED, lesson_id=lesson.id, client_time=utcnow())
    await progress.record(user_id, [event])
    if lesson.next_lesson:
        return f"/modules/{slug}/lecons/{lesson.next_lesson}?fait=terminee"
    return f"/modules/{slug}?fait=termine-fin"


async def _carry_out(
    pending: str, user_id: uuid.UUID, enrollments: EnrollmentService, catalog: CatalogService, progress: ProgressService
) -> str | None:
    """Do the action an expired session stopped; where to go next, or None if it cannot be done any more."""
    found = PENDING_ACTION.fullmatch(pending)
    if found is None:
        return None
    slug, lesson_slug = found.group("slug"), found.group("lesson")
    try:
        if lesson_slug is None:
            return await _enroll(enrollments, user_id, slug)
        return await _mark_done(catalog, progress, user_id, slug, lesson_slug)
    except (NotFound, Conflict, Forbidden, Unprocessable):
        return None  # the module or lesson went away, or the action no longer applies: the page says where it is


def _wait(exc: TooManyRequests) -> str:
    seconds = int(exc.headers.get("Retry-After", "60"))
    minutes = max(1, round(seconds / 60))
    return f"Trop de tentatives : réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."


class AccountPages(Controller):
    dependencies = {
        "accounts": Provide(provide_account_service, sync_to_thread=False),
        "confirmations": Provide(provide_address_confirmations, sync_to_thread=False),
        "resets": Provide(provide_password_resets, sync_to_thread=False),
        "enrollments": Provide(provide_enrollment_service, sync_to_thread=False),
        "progress": Provide(provide_progress_service, sync_to_thread=False),
        "catalog": Provide(provide_catalog_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    @page_route("/connexion", name="web:sign-in")
    async def sign_in_form(
        self,
        viewer: NamedDependency[CurrentUser | None],
        suite: Annotated[str, QueryParameter(max_length=2000)] = "/",
        reprendre: Annotated[str, QueryParameter(max_length=500)] = "",
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        pending = pending_action(reprendre)
        flash = Flash("Votre session a expiré : reconnectez-vous, et votre action sera faite.") if pending else None
        if fait == "mot-de-passe":
            flash = Flash("C’est fait : votre mot de passe a changé. Connectez-vous avec le nouveau.")
        elif fait == "adresse":
            flash = Flash("C’est fait : votre adresse e-mail est confirmée. Connectez-vous avec elle.")
        return page("signin.html", viewer, email="", suite=safe_next(suite), pending=pending or "", flash=flash)

    @post("/connexion", name="web:sign-in-post")
    async def sign_in(
        self,
        data: URLEncodedBody[SignInForm],
        request: Request[Any, Any, Any],
        accounts: NamedDependency[AccountService],
        enrollments: NamedDependency[EnrollmentService],
        catalog: NamedDependency[CatalogService],
        progress: NamedDependency[ProgressService],
        viewer: NamedDependency[CurrentUser | None],
        state: State,
    ) -> Redirect | Template:
        """Check the e-mail and password, then keep the session in an HttpOnly cookie; carry out the action an
        expired session stopped, if the form brings one."""
        suite = safe_next(data.suite)
        pending = pending_action(data.reprendre) or ""
        try:
            user = await accounts.authenticate(email=data.email, password=data.password, client_ip=client_ip(request))
        except InvalidCredentials:
            flash = Flash("Adresse e-mail ou mot de passe incorrect.", "error")
            return page(
                "signin.html", viewer, status_code=400, flash=flash, email=data.email, suite=suite, pending=pending
            )
        except TooManyRequests as exc:
            flash = Flash(_wait(exc), "error")
            return page(
                "signin.html", viewer, status_code=429, flash=flash, email=data.email, suite=suite, pending=pending
            )
        if pending:
            suite = await _carry_out(pending, user.id, enrollments, catalog, progress) or suite
        return _signed_in(state, user, suite)

    @page_route("/inscription", name="web:sign-up")
    async def sign_up_form(
        self,
        viewer: NamedDependency[CurrentUser | None],
        state: State,
        suite: Annotated[str, QueryParameter(max_length=2000)] = "/",
    ) -> Template:
        return page(
            "signup.html", viewer, email="", display_name="", suite=safe_next(suite),
            min_length=state.settings.password_min_length,
        )  # fmt: skip

    @post("/inscription", name="web:sign-up-post")
    async def sign_up(
        self,
        data: URLEncodedBody[SignUpForm],
        request: Request[Any, Any, Any],
        accounts: NamedDependency[AccountService],
        confirmations: NamedDependency[AddressConfirmations],
        viewer: NamedDependency[CurrentUser | None],
        state: State,
    ) -> Redirect | Template:
        """Create a learner account and sign it in; a link to confirm its address is e-mailed to it."""
        min_length = state.settings.password_min_length
        problem, status = None, 400
        try:
            user = await accounts.register(
                email=data.email, password=data.password, display_name=data.display_name.strip()[:120] or None,
                client_ip=client_ip(request),
            )  # fmt: skip
        except TooManyRequests as exc:
            problem = _wait(exc)
            status = 429
        except EmailTaken:
            problem = "Un compte existe déjà pour cette adresse : connectez-vous."
        except WeakPassword:
            problem = (
                f"Mot de passe refusé : il faut au moins {min_length} caractères, "
                "et ni un mot de passe courant ni votre adresse e-mail."
            )
        except Unprocessable:
            problem = "Cette adresse e-mail n’est pas valide."
        if problem is not None:
            return page(
                "signup.html", viewer, status_code=status, flash=Flash(problem, "error"), email=data.email,
                display_name=data.display_name, suite=safe_next(data.suite), min_length=min_length,
            )  # fmt: skip
        await confirmations.welcome(user)
        return _signed_in(state, user, data.suite)

    @page_route("/mot-de-passe-oublie", name="web:forgot")
    async def forgot_form(self, viewer: NamedDependency[CurrentUser | None]) -> Template:
        return page("forgot.html", viewer, email="", sent=False)

    @post("/mot-de-passe-oublie", name="web:forgot-post")
    async def forgot(
        self,
        data: URLEncodedBody[ForgotForm],
        request: Request[Any, Any, Any],
        resets: NamedDependency[PasswordResets],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:
        """Ask for a reset link: the same page whether the address has an account or not."""
        try:
            await resets.request(data.email, client_ip(request))
        except TooManyRequests as exc:
            flash = Flash(_wait(exc), "error")
            return page("forgot.html", viewer, status_code=429, flash=flash, email=data.email, sent=False)
        return page("forgot.html", viewer, email=data.email, sent=True)

    @page_route("/mot-de-passe/nouveau/{token:str}", name="web:reset")
    async def reset_form(
        self,
        token: FromPath[str],
        resets: NamedDependency[PasswordResets],
        viewer: NamedDependency[CurrentUser | None],
        state: State,
    ) -> Template:
        """The form of a reset link (or, for a link used or expired, the way to ask for another)."""
        try:
            await resets.check(token)
        except BadResetLink:
            return page(
                "reset.html", viewer, status_code=410, usable=False, min_length=state.settings.password_min_length
            )
        return page("reset.html", viewer, usable=True, min_length=state.settings.password_min_length)

    @post("/mot-de-passe/nouveau/{token:str}", name="web:reset-post")
    async def reset(
        self,
        token: FromPath[str],
        data: URLEncodedBody[ResetForm],
        resets: NamedDependency[PasswordResets],
        viewer: NamedDependency[CurrentUser | None],
        state: State,
    ) -> Redirect | Template:
        """Set the new password; then sign in with it (every other session has ended)."""
        min_length = state.settings.password_min_length
        try:
            await resets.reset(token, data.password)
        except BadResetLink:
            return page("reset.html", viewer, status_code=410, usable=False, min_length=min_length)
        except WeakPassword:
            problem = (
                f"Mot de passe refusé : il faut au moins {min_length} caractères, "
                "et ni un mot de passe courant ni votre adresse e-mail."
            )
            flash = Flash(problem, "error")
            return page("reset.html", viewer, status_code=400, flash=flash, usable=True, min_length=min_length)
        return see_other("/connexion?fait=mot-de-passe", cookies=[expired_session_cookie(state.settings)])

    @page_route("/adresse/confirmer/{token:str}", name="web:confirm-email")
    async def confirm_email_form(
        self,
        token: FromPath[str],
        confirmations: NamedDependency[AddressConfirmations],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:
        """The page of a confirmation link: the address, and a button (opening the link alone confirms nothing:
        mail scanners open links too)."""
        try:
            found = await confirmations.check(token)
        except BadConfirmationLink:
            return page("confirm_email.html", viewer, status_code=410, email=None)
        return page("confirm_email.html", viewer, email=found.email)

    @post("/adresse/confirmer/{token:str}", name="web:confirm-email-post")
    async def confirm_email(
        self,
        token: FromPath[str],
        confirmations: NamedDependency[AddressConfirmations],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Redirect | Template:
        """Confirm the address; then « Mon compte » (or the sign-in page, for a browser not signed in)."""
        try:
            await confirmations.confirm(token)
        except BadConfirmationLink:
            return page("confirm_email.html", viewer, status_code=410, email=None)
        except EmailTaken:
            flash = Flash("Un autre compte utilise maintenant cette adresse : elle n’a pas été reprise.", "error")
            return page("confirm_email.html", viewer, status_code=409, flash=flash, email=None)
        return see_other("/compte?fait=adresse-confirmee" if viewer else "/connexion?fait=adresse")

    @post("/deconnexion", name="web:sign-out")
    async def sign_out(
        self, request: Request[Any, Any, Any], accounts: NamedDependency[AccountService], state: State
    ) -> Redirect:
        """Sign out: the session's token is revoked in every process (not only its cookie dropped)."""
        token = session_token(request)
        if token is not None:
            await accounts.sign_out(token.sub, jti=token_id(token), expires_at=token.exp)
        return see_other("/", cookies=[expired_session_cookie(state.settings)])


class LearnerPages(Controller):
    """Pages and actions of a signed-in learner."""

    guards = [requires_signed_in]
    dependencies = {
        "export": Provide(provide_account_export, sync_to_thread=False),
        "registrations": Provide(provide_registration_service, sync_to_thread=False),
        "accounts": Provide(provide_account_service, sync_to_thread=False),
        "confirmations": Provide(provide_address_confirmations, sync_to_thread=False),
        "enrollments": Provide(provide_enrollment_service, sync_to_thread=False),
        "progress": Provide(provide_progress_service, sync_to_thread=False),
        "feeds": Provide(provide_feed_service, sync_to_thread=False),
        "catalog": Provide(provide_catalog_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    async def _account(
        self,
        viewer: CurrentUser,
        progress: ProgressService,
        feeds: FeedService,
        registrations: RegistrationService,
        accounts: AccountService,
        *,
        token: str | None = None,
        flash: Flash | None = None,
    ) -> Template:
        account = await accounts.get(viewer.id)
        overview = [(found.module, module_marks(found)) for found in await progress.overview(viewer.id)]
        current = await feeds.current_token(viewer.id)
        urls = await feeds.private_feeds(viewer.id, token) if token else []
        return page(
            "account.html", viewer, flash=flash, overview=overview, token_row=current, token=token, token_urls=urls,
            sessions=await registrations.mine(viewer.id), account=account,
        )  # fmt: skip

    @page_route("/compte", name="web:account")
    async def account(
        self,
        viewer: NamedDependency[CurrentUser],
        progress: NamedDependency[ProgressService],
        feeds: NamedDependency[FeedService],
        registrations: NamedDependency[RegistrationService],
        accounts: NamedDependency[AccountService],
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """« Mon compte »: enrollments with progress, and the private feed token."""
        return await self._account(viewer, progress, feeds, registrations, accounts, flash=done_flash(fait))

    @post("/compte/jeton-prive", name="web:feed-token")
    async def feed_token(
        self,
        data: URLEncodedBody[FeedTokenForm],
        viewer: NamedDependency[CurrentUser],
        progress: NamedDependency[ProgressService],
        feeds: NamedDependency[FeedService],
        registrations: NamedDependency[RegistrationService],
        accounts: NamedDependency[AccountService],
    ) -> Template:
        """Without JavaScript: create (or rotate) or revoke the private feed token; the page shows it once."""
        if data.action == "revoke":
            revoked = await feeds.revoke_tokens(viewer.id, utcnow())
            said = "Le jeton a été révoqué : ses flux ne répondent plus." if revoked else "Vous n’aviez pas de jeton."
            return await self._account(viewer, progress, feeds, registrations, accounts, flash=Flash(said))
        replacing = await feeds.current_token(viewer.id) is not None
        token, _ = await feeds.issue_token(viewer.id, utcnow())
        flash = Flash(
            "Nouveau jeton créé : copiez-le maintenant, il ne sera plus affiché."
            + (" L’ancien ne fonctionne plus." if replacing else "")
        )
        return await self._account(viewer, progress, feeds, registrations, accounts, token=token, flash=flash)

    @page_route("/compte/adresse", name="web:email")
    async def email_form(
        self,
        viewer: NamedDependency[CurrentUser],
        accounts: NamedDependency[AccountService],
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """« Adresse e-mail »: whether it is confirmed (and a new link), and a form to change it."""
        return page("email.html", viewer, account=await accounts.get(viewer.id), flash=done_flash(fait), email="")

    @post("/compte/adresse", name="web:email-post")
    async def change_email(
        self,
        data: URLEncodedBody[EmailForm],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[CurrentUser],
        accounts: NamedDependency[AccountService],
        confirmations: NamedDependency[AddressConfirmations],
    ) -> Template:
        """Ask to move to a new address: a link goes there; the account keeps its address until it is opened."""
        problem, status = None, 400
        try:
            email = await confirmations.request_change(
                viewer.id, new_email=data.email, password=data.password, client_ip=client_ip(request)
            )
        except InvalidCredentials:
            problem = "Ce n’est pas votre mot de passe : l’adresse ne change pas."
        except SameEmail:
            problem = "C’est déjà l’adresse de votre compte."
        except EmailTaken:
            problem, status = "Un autre compte utilise déjà cette adresse.", 409
        except Unprocessable:
            problem = "Cette adresse e-mail n’est pas valide."
        except TooManyRequests as exc:
            problem, status = _wait(exc), 429
        account = await accounts.get(viewer.id)
        if problem is not None:
            flash = Flash(problem, "error")
            return page("email.html", viewer, status_code=status, flash=flash, account=account, email=data.email)
        flash = Flash(
            f"Un lien de confirmation part vers {email} : ouvrez-le pour que votre compte utilise cette adresse. "
            "D’ici là, rien ne change."
        )
        return page("email.html", viewer, flash=flash, account=account, email="")

    @post("/compte/adresse/verification", name="web:email-verification")
    async def send_verification(
        self,
        viewer: NamedDependency[CurrentUser],
        accounts: NamedDependency[AccountService],
        confirmations: NamedDependency[AddressConfirmations],
    ) -> Redirect | Template:
        """« Renvoyer le lien »: a new link confirming the account's address."""
        try:
            await confirmations.request_verification(viewer.id)
        except AlreadyVerified:
            return see_other("/compte/adresse")
        except TooManyRequests as exc:
            account = await accounts.get(viewer.id)
            return page("email.html", viewer, status_code=429, flash=Flash(_wait(exc), "error"), account=account)
        return see_other("/compte/adresse?fait=lien-envoye")

    @page_route("/compte/mot-de-passe", name="web:password")
    async def password_form(self, viewer: NamedDependency[CurrentUser], state: State) -> Template:
        return page("password.html", viewer, min_length=state.settings.password_min_length)

    @post("/compte/mot-de-passe", name="web:password-post")
    async def change_password(
        self,
        data: URLEncodedBody[PasswordForm],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[CurrentUser],
        accounts: NamedDependency[AccountService],
        state: State,
    ) -> Redirect | Template:
        """Change the password; this session goes on with a new cookie, every other one ends."""
        min_length = state.settings.password_min_length
        problem, status = None, 400
        try:
            user = await accounts.change_password(
                viewer.id, current=data.current, new=data.new, client_ip=client_ip(request)
            )
        except InvalidCredentials:
            problem = "Le mot de passe actuel n’est pas le bon."
        except WeakPassword:
            problem = (
                f"Nouveau mot de passe refusé : il faut au moins {min_length} caractères, "
                "et ni un mot de passe courant ni votre adresse e-mail."
            )
        except TooManyRequests as exc:
            problem, status = _wait(exc), 429
        if problem is not None:
            flash = Flash(problem, "error")
            return page("password.html", viewer, status_code=status, flash=flash, min_length=min_length)
        return _signed_in(state, user, "/compte?fait=mot-de-passe")

    @page_route("/compte/donnees", name="web:export")
    async def export(
        self, viewer: NamedDependency[CurrentUser], export: NamedDependency[AccountExport]
    ) -> Response[Any]:
        """« Télécharger mes données »: the same JSON document as GET /api/v1/me/export."""
        document = await export.export(viewer.id)
        disposition = f'attachment; filename="mes-donnees-{viewer.id}.json"'
        return Response(document, media_type="application/json", headers={"Content-Disposition": disposition})

    @page_route("/compte/supprimer", name="web:delete-account")
    async def delete_form(self, viewer: NamedDependency[CurrentUser]) -> Template:
        return page("delete_account.html", viewer)

    @post("/compte/supprimer", name="web:delete-account-post")
    async def delete_account(
        self,
        data: URLEncodedBody[DeletionForm],
        request: Request[Any, Any, Any],
        viewer: NamedDependency[CurrentUser],
        accounts: NamedDependency[AccountService],
        state: State,
    ) -> Redirect | Template:
        """Delete the account (password given again); the session ends with it."""
        problem, status = None, 400
        try:
            await accounts.delete_own(viewer.id, password=data.password, client_ip=client_ip(request))
        except InvalidCredentials:
            problem = "Ce n’est pas votre mot de passe : le compte n’est pas supprimé."
        except LastAdmin:
            problem, status = "C’est le dernier compte administrateur : donnez d’abord ce rôle à un autre compte.", 409
        except TooManyRequests as exc:
            problem, status = _wait(exc), 429
        if problem is not None:
            return page("delete_account.html", viewer, status_code=status, flash=Flash(problem, "error"))
        return see_other("/?fait=compte-supprime", cookies=[expired_session_cookie(state.settings)])

    @post("/compte/deconnexion-partout", name="web:sign-out-everywhere")
    async def sign_out_everywhere(
        self, viewer: NamedDependency[CurrentUser], accounts: NamedDependency[AccountService], state: State
    ) -> Redirect:
        """« Se déconnecter partout »: every session of the account ends, this one included."""
        await accounts.sign_out_everywhere(viewer.id)
        return see_other("/", cookies=[expired_session_cookie(state.settings)])

    @post("/modules/{slug:str}/inscription", name="web:enroll")
    async def enroll(
        self, slug: FromPath[str], viewer: NamedDependency[CurrentUser], enrollments: NamedDependency[EnrollmentService]
    ) -> Redirect:
        try:
            return see_other(await _enroll(enrollments, viewer.id, slug))
        except EmailNotVerified:  # the setting asks for a confirmed address first: the page says how
            return see_other("/compte/adresse?fait=a-confirmer")

    @page_route("/modules/{slug:str}/desinscription", name="web:unenroll-confirm")
    async def unenroll_confirm(
        self, slug: FromPath[str], viewer: NamedDependency[CurrentUser], catalog: NamedDependency[CatalogService]
    ) -> Template:
        """« Se désinscrire ? »: unenrolling asks first (what happens to the progress, and a way back)."""
        return page("unenroll.html", viewer, module=await catalog.module(slug))

    @post("/modules/{slug:str}/desinscription", name="web:unenroll")
    async def unenroll(
        self, slug: FromPath[str], viewer: NamedDependency[CurrentUser], enrollments: NamedDependency[EnrollmentService]
    ) -> Redirect:
        await enrollments.withdraw(viewer.id, slug)
        return see_other(f"/modules/{slug}?fait=desinscrit")

    @post("/webinaires/{series_slug:str}/{session_slug:str}/inscription", name="web:session-register")
    async def register_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        viewer: NamedDependency[CurrentUser],
        registrations: NamedDependency[RegistrationService],
    ) -> Redirect:
        """Register for a session to come (the confirmation goes by e-mail)."""
        await registrations.register(viewer.id, series_slug, session_slug)
        return see_other(f"/webinaires/{series_slug}/{session_slug}?fait=seance-inscrit")

    @post("/webinaires/{series_slug:str}/{session_slug:str}/desinscription", name="web:session-unregister")
    async def unregister_session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        viewer: NamedDependency[CurrentUser],
        registrations: NamedDependency[RegistrationService],
    ) -> Redirect:
        await registrations.unregister(viewer.id, series_slug, session_slug)
        return see_other(f"/webinaires/{series_slug}/{session_slug}?fait=seance-desinscrit")

    @post("/modules/{slug:str}/lecons/{lesson_slug:str}/terminee", name="web:lesson-done")
    async def lesson_done(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        viewer: NamedDependency[CurrentUser],
        catalog: NamedDependency[CatalogService],
        progress: NamedDependency[ProgressService],
    ) -> Redirect:
        """Mark a text lesson done (the progress service refuses it for media lessons)."""
        return see_other(await _mark_done(catalog, progress, viewer.id, slug, lesson_slug))
