"""Every link the platform hands out (answers, pages, mail, the CLI), built in one place.

The base is ``EVENTS_PUBLIC_BASE_URL`` when it is set. Otherwise, inside a request, it is
the address the request came to (scheme, host and port as the client sent them), so a
server on another port hands out links to that port; outside a request (``events mail
send``, ``events demo``) it is ``http://EVENTS_HOST:EVENTS_PORT``.

Mail that anyone can ask for (``events.ticketing.lookup``) must not trust the ``Host``
header: ``Links.for_mail`` uses the request's address only in ``dev``/``test`` or when the
host is one the server is configured to be reached at, else the configured base.

Services never format page URLs themselves: they are given a ``Links``.
"""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar.connection import ASGIConnection

from events.config import Settings

_ANY_ADDRESS = {"0.0.0.0", "::", ""}  # noqa: S104 - an address to bind, not one to link to


def configured_base(settings: Settings) -> str:
    """The base outside a request: the public base URL, else where ``events serve`` listens."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    host = "127.0.0.1" if settings.host in _ANY_ADDRESS else settings.host
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def request_base(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return str(connection.base_url).rstrip("/")


@dataclass(frozen=True, slots=True)
class Links:
    base: str

    @classmethod
    def for_settings(cls, settings: Settings) -> "Links":
        return cls(configured_base(settings))

    @classmethod
    def for_request(
        cls, connection: ASGIConnection[Any, Any, Any, Any], settings: Settings
    ) -> "Links":
        if settings.public_base_url:
            return cls(settings.public_base_url.rstrip("/"))
        return cls(request_base(connection))

    @classmethod
    def for_mail(
        cls, connection: ASGIConnection[Any, Any, Any, Any], settings: Settings
    ) -> "Links":
        """Links for mail sent to an address the caller only names: never a host the
        caller made up (outside dev and test, only the configured one or EVENTS_HOST)."""
        if settings.public_base_url:
            return cls(settings.public_base_url.rstrip("/"))
        base = request_base(connection)
        host = urlsplit(base).hostname or ""
        if settings.env in ("dev", "test") or host == settings.host:
            return cls(base)
        return cls.for_settings(settings)

    @property
    def secure(self) -> bool:
        """Whether people reach the site over https (cookies are then ``Secure``)."""
        return self.base.startswith("https://")

    def absolute(self, path: str) -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    # --- pages ----------------------------------------------------------------------------

    @staticmethod
    def order_path(order_id: uuid.UUID | str, access_token: str) -> str:
        return f"/orders/{order_id}?access_token={quote(access_token, safe='')}"

    def order(self, order_id: uuid.UUID | str, access_token: str) -> str:
        return self.absolute(self.order_path(order_id, access_token))

    @staticmethod
    def entry_path(entry_id: uuid.UUID | str) -> str:
        return f"/my?paid={entry_id}#entry-{entry_id}"

    @staticmethod
    def return_path(purpose: str, reference_id: uuid.UUID) -> str | None:
        """The page a payer goes back to after paying for ``purpose`` (no secret in it:
        the order page opens with the cookie its first visit left on the phone)."""
        if purpose == "ticket_order":
            return f"/orders/{reference_id}"
        if purpose == "entry_fee":
            return Links.entry_path(reference_id)
        return None

    def shop(self, festival_id: uuid.UUID | str) -> str:
        return self.absolute(f"/festivals/{festival_id}/tickets")

    def find_tickets(self) -> str:
        return self.absolute("/tickets/find")

    def test_checkout(self, payment_id: uuid.UUID, pay_token: str) -> str:
        """The test provider's page; ``pay_token`` is its credential (only the buyer has it)."""
        return self.absolute(f"/pay/test/{payment_id}?pay_token={pay_token}")

    def payment_result(
        self, payment_id: uuid.UUID, *, canceled: bool = False, stripe_session: bool = False
    ) -> str:
        url = self.absolute(f"/pay/{payment_id}/result")
        if canceled:
            return url + "?canceled=1"
        if stripe_session:
            return url + "?session_id={CHECKOUT_SESSION_ID}"
        return url

    def scanner(self, device_token: str | None = None) -> str:
        url = self.absolute("/scan")
        return url if device_token is None else f"{url}#token={quote(device_token, safe='')}"

    def schema(self) -> str:
        return self.absolute("/schema")
