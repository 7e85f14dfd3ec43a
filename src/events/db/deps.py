"""Request-scoped database session: one transaction per request.

Committed after the handler succeeds (before the response is sent, so a failed commit is
an error response, never a false success); rolled back when anything raised.

Hooks registered with ``register_commit_hook`` run just before the commit, in the same
transaction, with the request (the audit trail writes its entry there). A handler that
gives up its change and answers anyway (a form shown again with its problems) calls
``abandon(session)``: nothing it tried is kept, and the hooks know it.
"""

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import State
from sqlmodel.ext.asyncio.session import AsyncSession

CommitHook = Callable[[AsyncSession, Request[Any, Any, Any]], Awaitable[None]]
_commit_hooks: list[CommitHook] = []


def register_commit_hook(hook: CommitHook) -> None:
    """Run ``hook(session, request)`` before every request's commit (once per hook)."""
    if hook not in _commit_hooks:
        _commit_hooks.append(hook)


async def abandon(session: AsyncSession) -> None:
    """Roll back what this request tried; it answers with the problem instead (nothing is
    kept, and the audit trail records no change)."""
    session.info["abandoned"] = True
    await session.rollback()


def abandoned(session: AsyncSession) -> bool:
    return bool(session.info.get("abandoned"))


async def provide_db_session(
    state: State,
    request: Request[Any, Any, Any],
) -> AsyncGenerator[AsyncSession, None]:
    session: AsyncSession = state.db.session_factory()
    try:
        yield session
        for hook in _commit_hooks:
            await hook(session, request)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
