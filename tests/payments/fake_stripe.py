"""A small in-process Stripe API behind an ``httpx.MockTransport``.

The real ``stripe`` library builds and sends every request (form encoding, headers,
idempotency keys, error mapping); this fake records what arrives and answers the way the
Stripe API does for the few endpoints the platform uses. Nothing leaves the process.

Like Stripe, it stores the first answer for an ``Idempotency-Key`` and replays it; the same
key with other parameters is an ``idempotency_error``.
"""

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: httpx.Headers


@dataclass
class FakeStripe:
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_with: int | None = None
    """Answer the next request with this HTTP status (an API error), then behave again."""
    _replies: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = field(default_factory=dict)
    _counter: int = 0

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def posts(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]

    # --- the API ------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        self.requests.append(Recorded(request.method, request.url.path, form, request.headers))
        if self.fail_with is not None:
            status, self.fail_with = self.fail_with, None
            return self._error(status, "api_error", "Simulated failure.")
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key and key in self._replies:
            first_form, status, body = self._replies[key]
            if first_form != form:
                return self._error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the "
                    "same parameters they were first used with.",
                )
            return httpx.Response(status, json=body, headers={"Idempotent-Replayed": "true"})
        if request.method == "GET":
            form = dict(request.url.params)
        status, body = self._route(request.method, request.url.path, form)
        if request.method == "POST" and key:
            self._replies[key] = (form, status, body)
        return httpx.Response(status, json=body)

    def _route(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(form)
        if parts[:3] == ["v1", "checkout", "sessions"] and len(parts) >= 4:
            session = self.sessions.get(parts[3])
            if session is None:
                return self._error_body(404, "resource_missing", "No such checkout.session")
            if method == "GET" and len(parts) == 4:
                return 200, session
            if method == "POST" and parts[4:] == ["expire"]:
                if session["status"] != "open":
                    return self._error_body(
                        400, "checkout_session_not_open", "Only open sessions can be expired."
                    )
                session["status"] = "expired"
                return 200, session
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(form)
        if method == "GET" and path == "/v1/refunds":
            listed = [
                r
                for r in self.refunds.values()
                if r["payment_intent"] == form.get("payment_intent")
            ]
            return 200, {"object": "list", "url": "/v1/refunds", "has_more": False, "data": listed}
        if method == "GET" and parts[:2] == ["v1", "payment_intents"] and len(parts) == 3:
            session = next(
                (s for s in self.sessions.values() if s["payment_intent"] == parts[2]), None
            )
            if session is None:
                return self._error_body(
                    404, "resource_missing", f"No such payment_intent: {parts[2]}"
                )
            return 200, {
                "id": parts[2],
                "object": "payment_intent",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "status": "succeeded" if session["payment_status"] == "paid" else "processing",
                "metadata": dict(session["metadata"]),
            }
        return self._error_body(404, "resource_missing", f"Unrecognized request URL {path}")

    def _next(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_test_{self._counter:04d}"

    def _create_session(self, form: dict[str, str]) -> dict[str, Any]:
        session_id = self._next("cs")
        amount = int(form["line_items[0][price_data][unit_amount]"]) * int(
            form["line_items[0][quantity]"]
        )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            },
            "expires_at": int(form["expires_at"]),
            "payment_intent": None,
            "success_url": form["success_url"],
            "cancel_url": form["cancel_url"],
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "livemode": False,
            "created": int(time.time()),
        }
        self.sessions[session_id] = session
        return session

    def _create_refund(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = form.get("payment_intent")
        session = next((s for s in self.sessions.values() if s["payment_intent"] == intent), None)
        if session is None:
            return self._error_body(404, "resource_missing", f"No such payment_intent: {intent}")
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        amount = int(form.get("amount", session["amount_total"] - refunded))
        if amount > session["amount_total"] - refunded:
            return self._error_body(
                400, "amount_too_large", "Refund amount is greater than unrefunded amount on charge"
            )
        refund = {
            "id": self._next("re"),
            "object": "refund",
            "amount": amount,
            "currency": session["currency"],
            "payment_intent": intent,
            "status": "succeeded",
            "reason": form.get("reason"),
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            },
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def _error_body(self, status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
        kind = "idempotency_error" if code == "idempotency_error" else "invalid_request_error"
        return status, {"error": {"type": kind, "code": code, "message": message}}

    def _error(self, status: int, code: str, message: str) -> httpx.Response:
        return httpx.Response(status, json=self._error_body(status, code, message)[1])

    # --- what happens on Stripe's side --------------------------------------------------

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays: the session completes (as ``checkout.session.completed`` says)."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="paid",
            payment_intent=session.get("payment_intent") or self._next("pi"),
        )
        return dict(session)

    def complete_awaiting(self, session_id: str) -> dict[str, Any]:
        """Paid with a wallet (Alipay, WeChat Pay): the session completes unpaid; the money
        is confirmed later (``checkout.session.async_payment_succeeded`` or ``_failed``)."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="unpaid",
            payment_intent=session.get("payment_intent") or self._next("pi"),
        )
        return dict(session)

    def settle(self, session_id: str, *, paid: bool) -> dict[str, Any]:
        """The wallet's money arrives (or does not)."""
        session = self.sessions[session_id]
        session.update(payment_status="paid" if paid else "unpaid")
        return dict(session)

    def charge(self, session_id: str) -> dict[str, Any]:
        """The charge of a paid session, as ``charge.refunded`` carries it."""
        session = self.sessions[session_id]
        intent = session["payment_intent"]
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        return {
            "id": f"ch_for_{intent}",
            "object": "charge",
            "payment_intent": intent,
            "amount": session["amount_total"],
            "amount_refunded": refunded,
            "currency": session["currency"],
            "refunded": refunded >= session["amount_total"],
            "metadata": dict(session["metadata"]),
        }

    def refund_in_dashboard(
        self, session_id: str, amount: int, status: str = "succeeded"
    ) -> dict[str, Any]:
        """Someone refunds in Stripe's dashboard, not through the platform (no metadata)."""
        intent = self.sessions[session_id]["payment_intent"]
        refund_id = self._next("re")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": self.sessions[session_id]["currency"],
            "payment_intent": intent,
            "status": status,
            "metadata": {},
        }
        self.refunds[refund_id] = refund
        return dict(refund)

    def start_delayed(self, session_id: str) -> dict[str, Any]:
        """The customer chose a delayed method: the session completes unpaid."""
        session = self.sessions[session_id]
        session.update(
            status="complete",
            payment_status="unpaid",
            payment_intent=session.get("payment_intent") or self._next("pi"),
        )
        return dict(session)

    def fail_delayed(self, session_id: str) -> dict[str, Any]:
        """The delayed payment did not arrive."""
        return dict(self.sessions[session_id])


def event(event_id: str, event_type: str, obj: dict[str, Any]) -> str:
    """A Stripe event's JSON body, as Stripe posts it."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    )
