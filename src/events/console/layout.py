"""The console's page frame: who is signed in, the nav their role may use, the festival
switcher, the CSRF token, and the same ``t``/``name``/language switch as every page.

Each area adds its nav entries with ``add_nav`` when its module is imported; a role sees
only the entries it may use (the routes still guard themselves: the nav is a courtesy).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Template
from litestar.utils.scope.state import ScopeState
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.access.principal import Principal
from events.festivals import schemas as festival_schemas
from events.festivals import services as festival_services
from events.web.pages import page

PRIVATE = {"Cache-Control": "private, no-store"}
ALL_STAFF = (Role.ORGANISER, Role.OFFICIAL, Role.GATE)


@dataclass(frozen=True)
class NavItem:
    """One entry of the console's nav. ``href`` may hold ``{festival}`` (the current
    festival's id); such entries show only while a festival is chosen."""

    key: str
    """The i18n key of its label, and its ``data-testid`` (``nav-<key>``)."""
    href: str
    roles: tuple[Role, ...]
    position: int = 100

    def url(self, festival_id: str | None) -> str | None:
        if "{festival}" in self.href:
            return self.href.format(festival=festival_id) if festival_id else None
        return self.href


_NAV: list[NavItem] = []


def add_nav(*items: NavItem) -> None:
    for item in items:
        if all(existing.key != item.key for existing in _NAV):
            _NAV.append(item)
    _NAV.sort(key=lambda i: (i.position, i.key))


def nav_for(principal: Principal | None, festival_id: str | None) -> list[dict[str, str]]:
    if principal is None:
        return []
    entries = []
    for item in _NAV:
        url = item.url(festival_id)
        if principal.role in item.roles and url is not None:
            entries.append({"key": item.key, "url": url})
    return entries


def signed_in(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) and not user.is_device else None


def console_page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    festival: festival_schemas.FestivalRead | None = None,
    festivals: Sequence[festival_schemas.FestivalSummary] = (),
    **context: Any,
) -> Template:
    """A console page (``console/<template>``) in the caller's language, never cached."""
    principal = signed_in(request)
    festival_id = festival.id if festival is not None else None
    token = ScopeState.from_scope(request.scope).csrf_token
    response = page(
        request,
        f"console/{template}",
        principal=principal,
        nav=nav_for(principal, festival_id),
        festival=festival,
        festivals=festivals,
        csrf_token_value=token if isinstance(token, str) else "",
        **context,
    )
    response.status_code = status
    response.headers.update(PRIVATE)
    return response


async def switchable_festivals(session: AsyncSession) -> list[festival_schemas.FestivalSummary]:
    """The festivals the switcher offers (the newest fifty)."""
    items, _ = await festival_services.FestivalService(session).list(limit=50, offset=0)
    return items


async def festival_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    festival_id: str,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> Template:
    """A page about one festival: reads it (``NotFound`` for an unknown id) and the
    switcher's list."""
    festival = await festival_services.FestivalService(session).read(festival_id)
    return console_page(
        request,
        template,
        status=status,
        festival=festival,
        festivals=await switchable_festivals(session),
        **context,
    )
