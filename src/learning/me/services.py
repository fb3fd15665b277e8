"""The export of a learner's data (RGPD, article 20: in a structured, commonly used format) and account deletion."""

from __future__ import annotations

import uuid
from typing import Any

from learning.accounts.services import AccountService
from learning.lib.clock import utcnow
from learning.podsync.services import AppPasswordService
from learning.podsync.sync import SyncService
from learning.progress.events import ProgressService
from learning.progress.services import EnrollmentService
from learning.quizzes.services import QuizService
from learning.registrations.services import RegistrationService

XAPI_PAGE = 500
XAPI_PAGES_MAX = 200  # 100,000 statements: far past a learner's activity, still a bound


class AccountExport:
    def __init__(
        self,
        accounts: AccountService,
        enrollments: EnrollmentService,
        progress: ProgressService,
        registrations: RegistrationService,
        quizzes: QuizService,
        apps: AppPasswordService,
        podsync: SyncService,
        base_url: str,
    ) -> None:
        self.accounts = accounts
        self.enrollments = enrollments
        self.progress = progress
        self.registrations = registrations
        self.quizzes = quizzes
        self.apps = apps
        self.podsync = podsync
        self.base_url = base_url

    async def export(self, user_id: uuid.UUID) -> dict[str, Any]:
        """Everything kept about the learner: the account, enrollments, progress lesson by lesson, webinar
        registrations and the xAPI statements of their learning."""
        user = await self.accounts.get(user_id)
        enrollments = await self.enrollments.active(user_id)
        overview = await self.progress.overview(user_id)
        return {
            "exported_at": utcnow().isoformat(),
            "account": {
                "id": str(user.id), "email": user.email, "display_name": user.display_name, "role": user.role.value,
                "created_at": user.created_at.isoformat(),
                "email_verified_at": user.email_verified_at.isoformat() if user.email_verified_at else None,
            },
            "enrollments": [
                {"module": module.slug, "title": module.title, "status": enrollment.status.value,
                 "registration": str(enrollment.registration), "enrolled_at": enrollment.enrolled_at.isoformat()}
                for enrollment, module in enrollments
            ],
            "progress": [
                {
                    "module": found.module.slug,
                    "percent_complete": found.percent_complete,
                    "lessons": [
                        {"lesson": lesson.slug, "title": lesson.title, "watched_seconds": row.watched_seconds,
                         "position_seconds": row.position_seconds, "completed": row.completed,
                         "completed_at": row.completed_at.isoformat() if row.completed_at else None,
                         "updated_at": row.updated_at.isoformat()}
                        for lesson, row in found.lessons
                        if row is not None
                    ],
                }
                for found in overview
            ],
            "webinar_registrations": [
                {"series": found.series.slug, "session": found.session.slug, "title": found.session.title,
                 "scheduled_at": found.session.scheduled_at.isoformat(),
                 "registered_at": found.registration.created_at.isoformat(),
                 "attended_at": found.registration.attended_at.isoformat() if found.registration.attended_at else None}
                for found in await self.registrations.mine(user_id)
            ],
            "quiz_attempts": [
                {"module": slug, "number": attempt.number, "submitted_at": attempt.submitted_at.isoformat(),
                 "answers": attempt.answers, "score": attempt.score, "passed": attempt.passed}
                for slug, attempt in await self.quizzes.mine(user_id)
            ],
            "podcast_apps": [
                {"name": row.name, "created_at": row.created_at.isoformat(),
                 "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None}
                for row in await self.apps.live(user_id)
            ],
            "podcast_app_episode_actions": await self.podsync.kept_actions(user_id),
            "xapi_statements": await self._statements(user_id),
        }  # fmt: skip

    async def _statements(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(XAPI_PAGES_MAX):
            page, cursor = await self.progress.statements(
                user_id, self.base_url, limit=XAPI_PAGE, cursor=cursor, caller=user_id
            )
            statements += page
            if cursor is None:
                break
        return statements
