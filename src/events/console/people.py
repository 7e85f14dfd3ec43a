"""Staff accounts in the console: who may sign in, with which role; add an account.

``UserService.list`` and ``UserService.create`` are what ``ListUsers`` and ``CreateUser``
call (usernames unique whatever their case, a mobile number only as its own account's
name, the password hashed off the event loop).
"""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import schemas as access_schemas
from events.access.guards import organiser_only
from events.access.models import Role
from events.access.services import UserService
from events.console.forms import Form, FormState, parse
from events.console.layout import NavItem, add_nav, console_page, switchable_festivals
from events.console.paging import Paged, PageNumber, window
from events.db.deps import abandon
from events.errors import DomainError
from events.web.i18n import N_

add_nav(NavItem("console.nav.people", "/console/people", (Role.ORGANISER,), position=80))


class ConsolePeopleController(Controller):
    path = "/people"
    guards = [organiser_only]
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        *,
        page: int = 1,
        role: Role | None = None,
        status: int = 200,
        form: FormState | None = None,
        added: str | None = None,
    ) -> Response[Any]:
        users, total = await UserService(session).list(role=role, **window(page))
        return console_page(
            request,
            "people/index.html",
            status=status,
            users=Paged(list(users), total, page),
            role=role,
            roles=[r.value for r in Role],
            form=form or FormState.of(role=Role.GATE.value),
            added=added,
            festivals=await switchable_festivals(session),
        )

    @get("/", operation_id="ConsolePeople", summary="Staff and owner accounts (page)")
    async def people(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        page: PageNumber = 1,
        role: Annotated[Role | None, QueryParameter()] = None,
        added: Annotated[str | None, QueryParameter(max_length=64)] = None,
    ) -> Response[Any]:
        return await self._page(request, db_session, page=page, role=role, added=added)

    @post("/", operation_id="ConsolePersonCreate", summary="Add an account (form)")
    async def create(
        self, request: Request[Any, Any, Any], data: Form, db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        try:
            body = parse(
                access_schemas.UserCreate,
                {
                    "username": data.get("username", "").strip(),
                    "password": data.get("password", ""),
                    "role": data.get("role", ""),
                    "display_name": data.get("display_name", "").strip(),
                },
            )
            user = await UserService(db_session).create(
                username=body.username,
                password=body.password,
                role=body.role,
                display_name=body.display_name,
            )
        except (PydanticValidationError, DomainError) as exc:
            await abandon(db_session)
            return await self._page(
                request, db_session, status=422, form=FormState.failed(data, exc)
            )
        return Redirect(f"/console/people?added={user.username}", status_code=303)


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.nav.people"),
    N_("console.role.owner"),
)
