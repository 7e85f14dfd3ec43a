"""``create_app()``: the one factory for the server, the CLI and the tests."""

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RapidocRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from events import __version__, problems
from events.access.controllers import AuthController, DeviceController, UserController
from events.access.middleware import AuthenticationMiddleware
from events.access.throttle import LoginThrottle, login_store
from events.audit.controllers import AuditController
from events.audit.wiring import connect as connect_audit
from events.awards.controllers import AwardController
from events.checkin.baseline import batches, hello, touch
from events.checkin.controllers import AttendanceController, CheckinController
from events.checkin.pages import CheckinPageController
from events.checkin.wiring import connect as connect_checkin
from events.config import Settings, get_settings
from events.console.routes import CONSOLE_ROUTES
from events.db.deps import provide_db_session
from events.db.engine import Database
from events.festivals.controllers import FestivalController, GateDeviceController
from events.festivals.pages import HomeController
from events.funding.controllers import FundingController, SponsorController
from events.funding.pages import FundingPageController
from events.funding.wiring import connect as connect_funding
from events.health import health
from events.jobs import JobSet, running
from events.live.controllers import LiveResultsController
from events.live.pages import LiveResultsPageController
from events.live.wiring import create_feed, publishing
from events.logsafe import LOG_FORMATTERS, RequestIdMiddleware
from events.payments.controllers import (
    FestivalPaymentController,
    PaymentController,
    PaymentPageController,
)
from events.payments.gateway import stripe_lifespan
from events.problems import document_problems, exception_handlers
from events.registration.controllers import ROUTES as REGISTRATION_ROUTES
from events.results.controllers import ROUTES as RESULTS_ROUTES
from events.results.pages import OfficialsPageController
from events.textguard import TextGuardMiddleware
from events.ticketing.controllers import TicketingController
from events.ticketing.jobs import JOBS as TICKETING_JOBS
from events.ticketing.lookup import lookup_throttle
from events.ticketing.lookup_controllers import (
    TicketLookupController,
    TicketLookupPageController,
)
from events.ticketing.pages import TicketPageController
from events.ticketing.wiring import connect as connect_ticketing
from events.web.pages import error_page
from events.websecurity import WebSecurityMiddleware

WEB = Path(__file__).parent / "web"

# Each domain adds its controllers here.
ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    health,
    AuthController,
    UserController,
    DeviceController,
    FestivalController,
    GateDeviceController,
    AwardController,
    CheckinController,
    AttendanceController,
    CheckinPageController,
    HomeController,
    *REGISTRATION_ROUTES,
    PaymentController,
    FestivalPaymentController,
    PaymentPageController,
    TicketingController,
    TicketPageController,
    TicketLookupController,
    TicketLookupPageController,
    SponsorController,
    FundingController,
    FundingPageController,
    *RESULTS_ROUTES,
    OfficialsPageController,
    LiveResultsController,
    LiveResultsPageController,
    AuditController,
    CONSOLE_ROUTES,
    create_static_files_router(
        path="/static",
        directories=[WEB / "static"],
        include_in_schema=False,
        send_as_attachment=False,
    ),
]

# Each domain with background jobs adds its ``JobSet`` here.
JOB_SETS: list[JobSet] = [TICKETING_JOBS]

OPENAPI_TAGS = [
    Tag(name="Service", description="Health and operations"),
    Tag(name="Access", description="Sign-in, accounts and gate devices"),
    Tag(name="Festivals", description="Festivals, meetings, days and gates"),
    Tag(name="Registration", description="Owners, riders, horses, races, entries, imports"),
    Tag(name="Awards", description="Award categories, prize tables, import/export, allocation"),
    Tag(name="Payments", description="Stripe, cash and test payments; webhooks, refunds"),
    Tag(name="Ticketing", description="Ticket types, capacity, orders, signed QR tickets"),
    Tag(name="Check-in", description="Gate scans, offline sync, attendance"),
    Tag(name="Funding", description="Sponsors, the append-only funding ledger, coverage"),
    Tag(name="Results", description="Start lists, results, objections, prize money owed"),
    Tag(name="Live results", description="Results served from memory and pushed as SSE"),
    Tag(name="Audit", description="Who changed what and when (every staff change)"),
]


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="events",
        version=__version__,
        description="Horse-racing festivals end to end. Errors are RFC 9457 Problem Details "
        "with a stable `code` member.",
        tags=OPENAPI_TAGS,
        path="/schema",
        # Served from static/vendor (make assets), so /schema works with no internet.
        render_plugins=[
            RapidocRenderPlugin(
                js_url="/static/vendor/rapidoc-min.js",
                path=["/", "/rapidoc"],
                favicon='<link rel="icon" type="image/png" href="/favicon.ico">',
            )
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="From POST /api/v1/auth/login",
                ),
                "DeviceToken": SecurityScheme(
                    type="apiKey",
                    name="Authorization",
                    security_scheme_in="header",
                    description="'Device <token>' from CreateDevice",
                ),
            }
        ),
        use_handler_docstrings=True,
    )


def create_app(
    settings: Settings | None = None,
    *,
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Build the application. ``settings`` defaults to the environment's."""
    settings = settings or get_settings()
    connect_ticketing()
    connect_checkin()
    connect_funding()
    connect_audit()
    problems.use_html_error_page(error_page)
    settings.signing_key()  # fail at start, not at the first login, when the key is missing
    database = Database.from_settings(settings)
    feed = create_feed(settings, database)

    def announce_signing_key() -> None:
        source = settings.signing_key_source()
        if source is not None:
            logging.getLogger("events.config").warning(
                "EVENTS_SECRET_KEY is unset (EVENTS_ENV=%s): tokens are signed with %s. "
                "Set it in production.",
                settings.env,
                source,
            )

    @asynccontextmanager
    async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await database.dispose()

    @asynccontextmanager
    async def live_lifespan(app: Litestar) -> AsyncIterator[None]:
        async with publishing(feed):
            yield

    @asynccontextmanager
    async def jobs_lifespan(app: Litestar) -> AsyncIterator[None]:
        async with running(
            settings, database.engine, JOB_SETS, worker=settings.jobs_worker
        ) as jobs:
            app.state.jobs = jobs
            yield

    login_throttle = LoginThrottle(login_store(settings.redis_url, settings.redis_prefix))
    ticket_lookup_throttle = lookup_throttle(settings)

    async def close_stores() -> None:
        await login_throttle.store.__aexit__(None, None, None)
        await ticket_lookup_throttle.aclose()

    def provide_settings() -> Settings:
        return settings

    app = Litestar(
        route_handlers=[
            *ROUTE_HANDLERS,
            *([touch, hello, batches] if settings.bench_endpoints else []),
            *extra_route_handlers,
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "settings": Provide(provide_settings, sync_to_thread=False),
        },
        middleware=[
            RequestIdMiddleware(log_requests=settings.log_requests),
            WebSecurityMiddleware(),
            TextGuardMiddleware(max_body_bytes=settings.max_request_body_bytes),
            AuthenticationMiddleware(),
        ],
        exception_handlers=exception_handlers,
        openapi_config=_openapi(),
        lifespan=[database_lifespan, stripe_lifespan, live_lifespan, jobs_lifespan],
        on_startup=[announce_signing_key],
        on_shutdown=[close_stores],
        state=State(
            {
                "settings": settings,
                "db": database,
                "live": feed,
                "login_throttle": login_throttle,
                "lookup_throttle": ticket_lookup_throttle,
            }
        ),
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, exclude_opt_key="skip_compression"
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            log_exceptions="never",
            disable_stack_trace={404},
            formatters=LOG_FORMATTERS,
        ),
        template_config=TemplateConfig(directory=WEB / "templates", engine=JinjaTemplateEngine),
        request_max_body_size=settings.max_request_body_bytes,
        debug=settings.debug,
    )
    document_problems(app)
    return app
