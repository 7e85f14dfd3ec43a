"""The console's router: every ``/console`` page, behind its CSRF middleware and its
refusal pages, with htmx-aware requests (``request.htmx``)."""

from litestar import Router
from litestar.plugins.htmx import HTMXRequest
from litestar.types import ControllerRouterHandler

from events.console import texts  # noqa: F401 - registers the console's messages
from events.console.auth import ConsoleAuthController
from events.console.awards import ConsoleAwardsController
from events.console.csrf import ConsoleCSRFMiddleware
from events.console.entries import ConsoleEntryController
from events.console.gates import ConsoleGatesController
from events.console.home import ConsoleHomeController
from events.console.payments import ConsolePaymentController
from events.console.people import ConsolePeopleController
from events.console.races import ConsoleRaceController
from events.console.refusals import CONSOLE_EXCEPTION_HANDLERS
from events.console.setup import ConsoleSetupController
from events.console.tickets import ConsoleTicketController

CONSOLE_CONTROLLERS: list[ControllerRouterHandler] = [
    ConsoleAuthController,
    ConsoleHomeController,
    ConsoleAwardsController,
    ConsoleGatesController,
    ConsolePeopleController,
    ConsoleSetupController,
    ConsoleRaceController,
    ConsoleEntryController,
    ConsoleTicketController,
    ConsolePaymentController,
]
"""Each console area adds its controller here."""

CONSOLE_ROUTES = Router(
    path="/console",
    route_handlers=CONSOLE_CONTROLLERS,
    middleware=[ConsoleCSRFMiddleware],
    exception_handlers=CONSOLE_EXCEPTION_HANDLERS,
    request_class=HTMXRequest,
    include_in_schema=False,
)
