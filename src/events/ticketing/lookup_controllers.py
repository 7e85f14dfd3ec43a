"""Find my tickets: the API (``POST /api/v1/tickets/find``) and its page (``/tickets/find``).

The answer is the same for every address (``events.ticketing.lookup`` says why and how).
"""

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.response import Template
from pydantic import Field, field_validator, model_validator

from events.config import Settings
from events.errors import ValidationFailed
from events.links import Links
from events.problems import error_responses
from events.schemas import Email, Input
from events.ticketing.lookup import Address, LookupThrottled, send_order_links
from events.ticketing.schemas import Phone
from events.web.pages import page

ACCEPTED = (
    "If paid orders were placed with this address, a message with a link to each is on its way."
)


class TicketLookup(Input):
    email: Email | None = None
    phone: Annotated[
        Phone | None,
        Field(
            description="the mobile number of the order (text messages once an SMS provider is set)"
        ),
    ] = None

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one(self) -> "TicketLookup":
        if bool(self.email) == bool(self.phone):
            raise ValueError("give the e-mail address or the mobile number of the order")
        return self


class LookupAccepted(msgspec.Struct):
    status: str
    detail: str


class TicketLookupController(Controller):
    path = "/api/v1/tickets"
    tags = ["Ticketing"]

    @post(
        "/find",
        operation_id="FindMyTickets",
        status_code=202,
        summary="Send the links to the paid orders of an e-mail address or mobile number",
        description="Always `202` with the same body, whether or not there are orders: "
        "the lookup and the message happen after the answer. Limited per "
        "address and per client (`429 lookup_throttled`, `Retry-After`).",
        responses=error_responses(ValidationFailed, LookupThrottled),
    )
    async def find(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TicketLookup],
        settings: NamedDependency[Settings],
    ) -> Response[LookupAccepted]:
        address = Address.of(data.email, data.phone)
        throttle = request.app.state.lookup_throttle
        await throttle.take(address, request.client.host if request.client else None)
        task = BackgroundTask(
            send_order_links,
            request.app.state.db,
            settings,
            Links.for_mail(request, settings),
            address,
        )
        return Response(
            LookupAccepted(status="accepted", detail=ACCEPTED),
            status_code=202,
            background=task,
            headers={"Cache-Control": "no-store"},
        )


class TicketLookupPageController(Controller):
    include_in_schema = False

    @get("/tickets/find", operation_id="FindMyTicketsPage", summary="Find my tickets (page)")
    async def find_page(self, request: Request[Any, Any, Any]) -> Template:
        response = page(request, "tickets/find.html")
        response.headers.update({"Cache-Control": "no-store"})
        return response
