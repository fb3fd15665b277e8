"""Dependency providers of a learner's account as a whole."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from learning.accounts.deps import provide_account_service
from learning.me.services import AccountExport
from learning.podsync.deps import provide_app_passwords, provide_sync_service
from learning.progress.deps import provide_enrollment_service, provide_progress_service
from learning.quizzes.deps import provide_quiz_service
from learning.registrations.deps import registration_service


def provide_account_export(db_session: NamedDependency[AsyncSession], state: State) -> AccountExport:
    return AccountExport(
        provide_account_service(db_session, state), provide_enrollment_service(db_session, state),
        provide_progress_service(db_session, state), registration_service(db_session, state.settings),
        provide_quiz_service(db_session), provide_app_passwords(db_session, state),
        provide_sync_service(db_session, state), state.settings.base_url,
    )  # fmt: skip
