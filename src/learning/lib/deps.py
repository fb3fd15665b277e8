"""Request-scoped dependencies shared by every domain."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from learning.db.session import ACCOUNTS_CHANGED, CONTENT_CHANGED


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    """One session per request: committed when the handler succeeds, rolled back when it raises."""
    async with state.sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        else:
            await session.commit()
            # This process's next request must see the change (NOTIFY reaches it a moment later): a changed
            # catalog is not served stale, a changed password or a deleted account counts at once.
            for channel in (CONTENT_CHANGED, ACCOUNTS_CHANGED):
                if session.info.pop(channel, False):
                    state.edge.hub.changed(channel)
