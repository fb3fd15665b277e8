"""Admin analytics of learner progress (admin role required)."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide

from learning.accounts.auth import requires_admin
from learning.progress.deps import provide_progress_service
from learning.progress.events import ProgressService


class ModuleFigures(msgspec.Struct):
    module: str
    title: str
    enrolled: int
    started: int
    completed: int
    median_completion_percent: float


class AdminAnalyticsController(Controller):
    path = "/api/v1/admin/analytics"
    tags = ["admin"]
    guards = [requires_admin]
    dependencies = {"progress": Provide(provide_progress_service, sync_to_thread=False)}

    @get("/modules", operation_id="GetModuleAnalytics")
    async def modules(self, progress: NamedDependency[ProgressService]) -> list[ModuleFigures]:
        """Per module: learners enrolled, started, completed, and the median completion."""
        return [
            ModuleFigures(
                module=f.module.slug, title=f.module.title, enrolled=f.enrolled, started=f.started,
                completed=f.completed, median_completion_percent=f.median_completion,
            )
            for f in await progress.module_analytics()
        ]  # fmt: skip
