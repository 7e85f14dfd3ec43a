"""`make crash`: kill the server with SIGKILL in the middle of a burst of writes, restart
it, and prove from the database that every acknowledged write is stored exactly once and
that nothing unacknowledged is half-stored.

The server (`events serve`, 2 workers, PostgreSQL, Stripe through a local stand-in of its
API: the real ``stripe`` library in the server, ``tests/payments/fake_stripe.py`` behind
an HTTP port) takes a burst from threads, as clients would send it:

- gates scanning presold tickets, each scan with its own nonce; a scan that gets no
  answer (connection reset, 5xx, the server gone) is sent again with the same nonce until
  it is answered, as the scanner app does;
- buyers placing orders (an ``Idempotency-Key`` each, sent again until answered), paid at
  Stripe's stand-in, then Stripe's ``checkout.session.completed`` webhook, signed with
  the real library's scheme (``stripe.WebhookSignature``), delivered until answered 200
  and then once more (Stripe redelivers);

and meanwhile one worker is killed (SIGKILL; uvicorn starts another), then the whole
server (every process of it), which is started again on another port; the clients carry
on against it. Afterwards ``invariants.check_async`` (capacity, admitted once, attendance,
paid payments with their tickets, nothing acknowledged missing) and the crash checks
(``invariants.check_exactly_once``) must all hold.

Environment: CRASH_SECONDS (8), CRASH_SCANNERS (8), CRASH_BUYERS (6), CRASH_TICKETS
(3000), CRASH_DATABASE (events_crash), LOAD_PORTS.
"""

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import stripe
from tests.payments.fake_stripe import FakeStripe, event

from load_tests.invariants import Report, check_async, check_exactly_once
from load_tests.server import (
    ROOT,
    asyncpg_dsn,
    cloned_database,
    events_env,
    free_port,
    running_server,
    worker_pids,
)

WEBHOOK_SECRET = "whsec_crash_" + uuid.uuid4().hex
PASSWORD = "crash-organiser-password"


class _StripeHandler(BaseHTTPRequestHandler):
    fake: FakeStripe
    lock: threading.Lock

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        request = httpx.Request(
            self.command,
            f"http://stripe{self.path}",
            headers=dict(self.headers.items()),
            content=self.rfile.read(length),
        )
        with self.lock:
            response = self.fake.handle(request)
        body = response.content
        self.send_response(response.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def stripe_stand_in() -> Iterator[tuple[str, FakeStripe, threading.Lock]]:
    """Stripe's API for the server's real ``stripe`` library, on 127.0.0.1."""
    fake, lock = FakeStripe(), threading.Lock()
    handler = type("Handler", (_StripeHandler,), {"fake": fake, "lock": lock})
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", fake, lock
    finally:
        httpd.shutdown()


@dataclass
class Burst:
    """What the clients were told (the acknowledgements) and what happened."""

    acks: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Every scan nonce answered: its answer."""
    events: list[str] = field(default_factory=list)
    """Every webhook event id acknowledged (200)."""
    retries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Target:
    """The server's address, changed when it is started again, and when the burst ends
    (moved on after the restart, so the new server takes its share too)."""

    def __init__(self, base: str, stop: float) -> None:
        self.base = base
        self.stop = stop


def _until_answered(target: Target, burst: Burst, send: Any) -> Any:
    """Send again (the same request) until the server answers below 500."""
    while True:
        try:
            with httpx.Client(base_url=target.base, timeout=10) as client:
                response = send(client)
            if response.status_code < 500:
                return response
        except httpx.HTTPError:
            pass
        with burst.lock:
            burst.retries += 1
        if time.monotonic() > target.stop + 60:
            raise RuntimeError("the server did not come back within a minute")
        time.sleep(0.2)


def _scanner(target: Target, burst: Burst, tokens: list[str], device: dict[str, str]) -> None:
    headers = {"Authorization": f"Device {device['token']}"}
    while time.monotonic() < target.stop:
        with burst.lock:
            if not tokens:
                return
            secret = (
                tokens.pop()
                if random.random() > 0.2 or not burst.answers
                else random.choice(list(burst.answers.values()))["secret"]
            )  # shown again
        nonce = uuid.uuid4().hex
        body = {"secret": secret, "nonce": nonce, "type": "entry"}
        response = _until_answered(
            target, burst, lambda c, b=body: c.post("/api/v1/checkin/scan", headers=headers, json=b)
        )
        answer = response.json()
        with burst.lock:
            burst.answers[nonce] = {
                "secret": secret,
                "status": answer.get("status"),
                "reason": answer.get("reason"),
            }
            if answer.get("status") == "ok":
                burst.acks.append({"kind": "scan", "nonce": nonce})


def _buyer(
    target: Target,
    burst: Burst,
    festival_id: str,
    type_id: str,
    fake: FakeStripe,
    lock: threading.Lock,
) -> None:
    while time.monotonic() < target.stop:
        quantity = random.randint(1, 3)
        key = uuid.uuid4().hex
        body = {
            "email": "crash@example.com",
            "items": [{"ticket_type_id": type_id, "quantity": quantity}],
        }
        placed = _until_answered(
            target,
            burst,
            lambda c, b=body, k=key: c.post(
                f"/api/v1/festivals/{festival_id}/orders", headers={"Idempotency-Key": k}, json=b
            ),
        )
        if placed.status_code != 201:
            continue  # sold out: nothing to pay
        order = placed.json()
        session_id = order["checkout_url"].rsplit("/", 1)[1]
        with lock:
            session = fake.pay(session_id)
        event_id = f"evt_{uuid.uuid4().hex}"
        payload = event(event_id, "checkout.session.completed", session)

        def deliver(client: httpx.Client, p: str = payload) -> httpx.Response:
            return client.post(
                "/api/v1/payments/stripe/webhook",
                content=p,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                        p, WEBHOOK_SECRET, timestamp=int(time.time())
                    ),
                },
            )

        delivered = _until_answered(target, burst, deliver)
        if delivered.status_code != 200:
            raise RuntimeError(f"webhook refused: {delivered.status_code} {delivered.text}")
        with burst.lock:
            burst.events.append(event_id)
            burst.acks.append({"kind": "order", "order_id": order["order_id"], "tickets": quantity})
        _until_answered(target, burst, deliver)  # Stripe delivers again: a no-op


def _seed(
    base: str,
    tickets: int,
    fake: FakeStripe,
    lock: threading.Lock,
) -> dict[str, Any]:
    """A festival today, a paid ticket type, 4 devices and ``tickets`` paid tickets (orders
    of 100 through Stripe's stand-in and the signed webhook) for the gates."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    client = httpx.Client(base_url=base, timeout=120)
    token = client.post(
        "/api/v1/auth/login", json={"username": "crash", "password": PASSWORD}
    ).json()["access_token"]
    org = {"Authorization": f"Bearer {token}"}
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    festival = client.post(
        "/api/v1/festivals",
        headers=org,
        json={
            "slug": f"crash-{uuid.uuid4().hex[:6]}",
            "name_zh": "崩溃测试",
            "name_en": "Crash",
            "meetings": [{"name_zh": "今日", "name_en": "Today", "days": [{"date": str(today)}]}],
            "gates": [
                {"code": "north", "name_zh": "北门", "name_en": "North gate"},
                {"code": "east", "name_zh": "东门", "name_en": "East gate"},
            ],
        },
    ).json()
    fid = festival["id"]
    ground = client.post(
        f"/api/v1/festivals/{fid}/enclosures",
        headers=org,
        json={"code": "ground", "name_zh": "场", "name_en": "Ground"},
    ).json()
    paid = client.post(
        f"/api/v1/festivals/{fid}/ticket-types",
        headers=org,
        json={
            "code": "day",
            "name_zh": "当日票",
            "name_en": "Day",
            "enclosure_id": ground["id"],
            "day_ids": [festival["meetings"][0]["days"][0]["id"]],
            "price": 100,
            "max_per_order": 100,
            "capacity": tickets * 3,
        },
    ).json()
    tokens: list[str] = []
    orders: list[dict[str, Any]] = []
    while len(tokens) < tickets:
        quantity = min(100, tickets - len(tokens))
        order = client.post(
            f"/api/v1/festivals/{fid}/orders",
            json={
                "email": "presale@example.com",
                "items": [{"ticket_type_id": paid["id"], "quantity": quantity}],
            },
        ).json()
        with lock:
            session = fake.pay(order["checkout_url"].rsplit("/", 1)[1])
        payload = event(f"evt_{uuid.uuid4().hex}", "checkout.session.completed", session)
        done = client.post(
            "/api/v1/payments/stripe/webhook",
            content=payload,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(
                    payload, WEBHOOK_SECRET, timestamp=int(time.time())
                ),
            },
        )
        done.raise_for_status()
        got = client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        ).json()
        tokens += [t["token"] for t in got["tickets"]]
        orders.append({"kind": "order", "order_id": order["order_id"], "tickets": quantity})
    devices = [
        client.post(
            f"/api/v1/festivals/{fid}/devices",
            headers=org,
            json={"gate_id": festival["gates"][i % 2]["id"], "name": f"gate-{i}"},
        ).json()
        for i in range(4)
    ]
    return {
        "festival_id": fid,
        "type_id": paid["id"],
        "tokens": tokens,
        "orders": orders,
        "devices": devices,
    }


def _create_organiser(url: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "events",
            "users",
            "create",
            "crash",
            "--role",
            "organiser",
            "--password",
            PASSWORD,
        ],
        check=True,
        cwd=ROOT,
        env=events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url),
        stdout=subprocess.DEVNULL,
    )


@dataclass
class CrashResult:
    report: Report
    burst: Burst
    kills: list[str]
    acks_file: Path | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok


def run_crash(
    *,
    database: str = "events_crash",
    seconds: float = 8,
    scanners: int = 8,
    buyers: int = 6,
    tickets: int = 3000,
    workers: int = 2,
    out: Path | None = None,
) -> CrashResult:
    url = cloned_database(database, _create_organiser)
    burst = Burst()
    kills: list[str] = []
    with stripe_stand_in() as (stripe_url, fake, lock), ExitStack() as stack:
        env = {
            "EVENTS_STRIPE_SECRET_KEY": "sk_test_crash",
            "EVENTS_STRIPE_API_BASE": stripe_url,
            "EVENTS_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "EVENTS_STRIPE_MAX_NETWORK_RETRIES": "0",
        }
        server = stack.enter_context(running_server(url, workers=workers, extra_env=env))
        seeded = _seed(server.url, tickets, fake, lock)
        burst.acks += seeded["orders"]
        target = Target(server.url, time.monotonic() + 3600)
        tokens = list(seeded["tokens"])
        random.shuffle(tokens)
        threads = [
            threading.Thread(
                target=_scanner,
                args=(target, burst, tokens, seeded["devices"][i % len(seeded["devices"])]),
            )
            for i in range(scanners)
        ]
        threads += [
            threading.Thread(
                target=_buyer,
                args=(target, burst, seeded["festival_id"], seeded["type_id"], fake, lock),
            )
            for _ in range(buyers)
        ]
        errors: list[BaseException] = []

        def guarded(thread: threading.Thread) -> threading.Thread:
            run = thread.run

            def wrapped() -> None:
                try:
                    run()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            thread.run = wrapped  # type: ignore[method-assign]
            return thread

        for thread in map(guarded, threads):
            thread.daemon = True  # never outlive a failed run
            thread.start()
        try:
            time.sleep(seconds * 0.25)
            victim = worker_pids(server.pid)[0]
            os.kill(victim, signal.SIGKILL)
            kills.append(f"worker {victim} (SIGKILL; uvicorn starts another)")
            time.sleep(seconds * 0.35)
            os.killpg(server.pid, signal.SIGKILL)  # every process of the server at once
            kills.append(f"the whole server {server.pid} (SIGKILL), started again")
            stack.close()  # reaps the dead server
            server = stack.enter_context(running_server(url, workers=workers, extra_env=env))
            target.base = server.url
            target.stop = time.monotonic() + seconds * 0.4
            for thread in threads:
                thread.join()
        except BaseException:
            target.stop = time.monotonic() - 60  # a failed run: the clients give up
            raise
        if errors:
            raise errors[0]
        time.sleep(0.5)
        dsn = asyncpg_dsn(database)
        report = asyncio.run(check_async(dsn, burst.acks))
        report.violations.update(asyncio.run(check_exactly_once(dsn, burst.answers, burst.events)))
    acks_file = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        acks_file = out / "crash-acks.jsonl"
        acks_file.write_text("".join(json.dumps(a) + "\n" for a in burst.acks))
        (out / "crash-answers.json").write_text(
            json.dumps({"scans": burst.answers, "webhook_events": burst.events})
        )
    return CrashResult(report, burst, kills, acks_file)


def main() -> int:
    result = run_crash(
        database=os.environ.get("CRASH_DATABASE", "events_crash"),
        seconds=float(os.environ.get("CRASH_SECONDS", "8")),
        scanners=int(os.environ.get("CRASH_SCANNERS", "8")),
        buyers=int(os.environ.get("CRASH_BUYERS", "6")),
        tickets=int(os.environ.get("CRASH_TICKETS", "3000")),
        out=ROOT / "load_tests" / "results" / time.strftime("crash-%Y%m%d-%H%M%S"),
    )
    for kill in result.kills:
        print(f"killed: {kill}")
    burst = result.burst
    orders = sum(1 for a in burst.acks if a["kind"] == "order")
    admitted = sum(1 for a in burst.acks if a["kind"] == "scan")
    print(
        f"acknowledged: {len(burst.answers)} scans answered ({admitted} admissions), "
        f"{orders} orders paid, {len(burst.events)} webhooks; {burst.retries} requests "
        f"sent again after no answer"
    )
    for name, problems in result.report.violations.items():
        print(f"{'holds' if not problems else 'VIOLATED'}: {name}")
        for problem in problems:
            print(f"    {problem}")
    print("PASS" if result.ok else "FAIL")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
