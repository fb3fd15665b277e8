"""``/health/live`` answers while the process runs; ``/health/ready`` when PostgreSQL and storage answer."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from sqlalchemy import text

from learning.lib.errors import problem_response

CHECK_TIMEOUT_SECONDS = 3.0


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str]


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"exclude_from_auth": True}

    @get("/live", operation_id="Live", opt={"no_database": True})
    async def live(self) -> Health:
        """The process is up."""
        return Health(status="ok", checks={})

    @get("/ready", operation_id="Ready")
    async def ready(self, state: State) -> Response[Any]:
        """PostgreSQL and the object store both answer (503 names what failed)."""
        checks = {
            "database": await _check(_database(state)),
            "storage": await _check(state.store.ping()),
        }
        if all(result == "ok" for result in checks.values()):
            return Response(Health(status="ok", checks=checks))
        failed = ", ".join(name for name, result in checks.items() if result != "ok")
        return problem_response(
            503,
            detail=f"Not ready: {failed} unavailable.",
            headers={"Retry-After": "5"},
            extra={"checks": checks},
        )


async def _database(state: State) -> None:
    async with state.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _check(probe: Any) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
            await probe
    except TimeoutError:
        return "timeout"
    except Exception as exc:  # a readiness probe reports any failure instead of raising it
        return f"error: {type(exc).__name__}"
    return "ok"
