"""Request-scoped database session: one transaction per request.

Committed after the handler succeeds (before the response is sent, so a failed commit is
an error response, never a false success); rolled back when anything raised.
"""

from collections.abc import AsyncGenerator

from litestar.datastructures import State
from sqlmodel.ext.asyncio.session import AsyncSession


async def provide_db_session(state: State) -> AsyncGenerator[AsyncSession, None]:
    session: AsyncSession = state.db.session_factory()
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
