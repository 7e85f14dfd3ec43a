"""Staff sign-in and sign-out for the console (organiser, official, gate).

The password is checked by ``UserService.authenticate`` (off the event loop, throttled per
account and address), exactly as ``POST /api/v1/auth/login`` checks it; owners are sent to
their own pages. Signing in sets the console cookie (``events.console.session``).
"""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.middleware import CONSOLE_ROLES
from events.access.services import UserService
from events.access.throttle import TooManyAttempts
from events.config import Settings
from events.console import session as console_session
from events.console.forms import Form, FormState
from events.console.layout import console_page, signed_in
from events.errors import Unauthorized


class ConsoleAuthController(Controller):
    include_in_schema = False

    @get("/login", operation_id="ConsoleLoginPage", summary="Staff sign-in (page)")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next_page: Annotated[str | None, QueryParameter(name="next", max_length=300)] = None,
    ) -> Response[Any]:
        if signed_in(request) is not None:
            return Redirect(console_session.safe_next(next_page), status_code=303)
        return console_page(
            request, "login.html", form=FormState.of(next=console_session.safe_next(next_page))
        )

    @post("/login", operation_id="ConsoleLogin", summary="Staff sign-in (form)")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Form,
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        username = data.get("username", "").strip()
        target = console_session.safe_next(data.get("next"))
        form = FormState.of({"username": username, "next": target})
        try:
            user = await UserService(db_session).authenticate(
                username,
                data.get("password", ""),
                throttle=request.app.state.login_throttle,
                address=request.client.host if request.client else None,
            )
        except TooManyAttempts as exc:
            form.errors["_"] = "console.login.throttled"
            response = console_page(request, "login.html", status=429, form=form)
            response.headers.update(exc.headers)
            return response
        except Unauthorized:
            form.errors["_"] = "console.login.failed"
            return console_page(request, "login.html", status=401, form=form)
        if user.role not in CONSOLE_ROLES:
            form.errors["_"] = "console.login.not_staff"
            return console_page(request, "login.html", status=403, form=form)
        return console_session.sign_in(Redirect(target, status_code=303), request, user, settings)

    @post("/logout", operation_id="ConsoleLogout", summary="Sign out (form)")
    async def logout(self) -> Response[Any]:
        return console_session.sign_out(Redirect("/console/login", status_code=303))
