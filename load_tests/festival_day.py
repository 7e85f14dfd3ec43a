"""A festival day in locust: spectators buy, gates scan, the crowd watches results.

Read by `python -m load_tests.run` (`make load`) and the CI smoke; on its own:

    LOAD_DAY_CONFIG=day.json LOAD_ACK_FILE=acks.jsonl locust -f load_tests/festival_day.py \
        --headless --host http://127.0.0.1:8000 --csv out/day --html out/day.html

`LOAD_DAY_CONFIG` is the JSON that `load_tests.day_seed` wrote. Every answer a client was
given and relies on (a paid order with its tickets, an admission) is appended to
`LOAD_ACK_FILE`, so the checks after the run can prove none of it is missing.

The day (`FestivalDay`): gates open, most visitors arrive within 90 festival minutes,
results polling peaks at the race times; `LOAD_SPEEDUP` festival seconds pass per wall
second (default 1000: a 5-hour day in 18 s); after it the gates (`LOAD_GATES` lanes, 48)
finish the queue still outside; `LOAD_MAX_SECONDS` (90) caps the run. Thresholds set the
exit code: `LOAD_MAX_FAIL_RATIO` (0.01), `LOAD_P95_MS` (2000), `LOAD_P99_MS` (5000) over
all requests; 0 disables a latency threshold.
"""

import json
import os
import random
import threading
import time
import urllib.request
import uuid
from collections import deque
from pathlib import Path
from typing import Any

from locust import FastHttpUser, LoadTestShape, between, constant, events, runners, task
from locust.env import Environment
from locust.runners import WorkerRunner

from load_tests.day_seed import pay_call, starters

CONFIG: dict[str, Any] = (
    json.loads(Path(os.environ["LOAD_DAY_CONFIG"]).read_text())
    if os.environ.get("LOAD_DAY_CONFIG")
    else {}
)
SPEEDUP = float(os.environ.get("LOAD_SPEEDUP", "1000"))
MAX_SECONDS = float(os.environ.get("LOAD_MAX_SECONDS", "90"))
SCALE = float(os.environ.get("LOAD_USER_SCALE", "1"))
"""Multiplies the number of concurrent users of every stage (the smoke uses less)."""

# A worker on a busy machine (its gevent loop starved by the servers beside it) can miss
# locust's 3 heartbeats; the master then drops it and, with the last one, stops the day.
runners.HEARTBEAT_LIVENESS = 30

_lock = threading.Lock()
_to_scan: deque[str] = deque(CONFIG.get("presold", []))
"""Tickets sold and not yet shown at a gate (presale first, then what sells today)."""
_admitted: list[str] = []
_shared: list[bool] = []
"""Set once this process took its share of the presale (distributed: worker i of n)."""
_ack_path = os.environ.get("LOAD_ACK_FILE")
_ack = open(_ack_path, "a", encoding="utf-8") if _ack_path else None  # noqa: SIM115
COUNTS = {
    "sold": 0,
    "admitted": 0,
    "results_delivered": 0,
    "sold_out": 0,
    "results_not_modified": 0,
}


def acknowledge(record: dict[str, Any]) -> None:
    if _ack is not None:
        with _lock:
            _ack.write(json.dumps(record) + "\n")
            _ack.flush()


def _take_share(environment: Environment) -> None:
    """In distributed mode (`LOAD_LOCUST_PROCESSES` > 1) worker i scans presale[i::n]."""
    processes = int(os.environ.get("LOAD_LOCUST_PROCESSES", "1"))
    index = getattr(environment.runner, "worker_index", -1)
    with _lock:
        if _shared or processes <= 1 or index < 0:
            return
        _shared.append(True)
        mine = list(_to_scan)[index::processes]
        _to_scan.clear()
        _to_scan.extend(mine)


def _forge(token: str) -> str:
    """A genuine-looking code with one character changed: the signature fails."""
    i = random.randrange(30, len(token) - 10)
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


class Buyer(FastHttpUser):
    """A spectator buying on the day: an order, its payment, then the tickets."""

    weight = 3
    wait_time = between(0.2, 1.0)

    @task
    def buy(self) -> None:
        if not CONFIG:
            return
        quantity = random.choice((1, 1, 2, 2, 2, 3, 4, 5))
        with self.client.post(
            f"/api/v1/festivals/{CONFIG['festival_id']}/orders",
            name="order",
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json={
                "email": "buyer@example.com",
                "locale": "zh",
                "items": [{"ticket_type_id": CONFIG["day_type_id"], "quantity": quantity}],
            },
            catch_response=True,
        ) as response:
            if response.status_code == 409 and response.json().get("code") == "sold_out":
                response.success()
                COUNTS["sold_out"] += 1
                return
            if response.status_code != 201:
                response.failure(f"order: {response.status_code}")
                return
            order = response.json()
        if order["status"] != "paid":
            with self.client.post(pay_call(order), name="pay", catch_response=True) as paid:
                if paid.status_code >= 300:
                    paid.failure(f"pay: {paid.status_code}")
                    return
        with self.client.get(
            f"/api/v1/orders/{order['order_id']}",
            name="order ticket",
            params={"access_token": order["access_token"]},
            catch_response=True,
        ) as got:
            body = got.json() if got.status_code == 200 else {}
            tickets = [t["token"] for t in body.get("tickets", [])]
            if body.get("status") != "paid" or len(tickets) != quantity:
                got.failure(f"order not paid with {quantity} tickets: {got.status_code}")
                return
        acknowledge({"kind": "order", "order_id": order["order_id"], "tickets": quantity})
        with _lock:
            COUNTS["sold"] += quantity
            _to_scan.extend(tickets)


class Gate(FastHttpUser):
    """A gate device: mostly fresh tickets, some shown twice, forged or for another day,
    some visitors going out and trying to come back in."""

    fixed_count = int(os.environ.get("LOAD_GATES", "48"))
    """Gate lanes, each a device scanning as fast as visitors come (the day's throughput)."""
    wait_time = constant(0)
    device: dict[str, str]

    def on_start(self) -> None:
        _take_share(self.environment)
        devices = CONFIG.get("devices") or [{"token": "", "gate_id": ""}]
        self.device = devices[random.randrange(len(devices))]

    def _scan(self, secret: str, expect: str, name: str, kind: str = "entry") -> None:
        nonce = uuid.uuid4().hex
        with self.client.post(
            "/api/v1/checkin/scan",
            name=f"scan {name}",
            headers={"Authorization": f"Device {self.device['token']}"},
            json={
                "secret": secret,
                "nonce": nonce,
                "type": kind,
                "gate_id": self.device["gate_id"],
            },
            catch_response=True,
        ) as response:
            body = response.json() if response.status_code == 200 else {}
            got = body.get("reason") or body.get("status")
            if got != expect:
                response.failure(
                    f"scan {name}: expected {expect}, got {response.status_code} {got}"
                )
                return
        if expect == "ok" and kind == "entry":
            acknowledge({"kind": "scan", "nonce": nonce})
            with _lock:
                COUNTS["admitted"] += 1
                _admitted.append(secret)

    @task
    def scan(self) -> None:
        roll = random.random()
        if roll < 0.04 and _admitted:
            self._scan(random.choice(_admitted), "already_redeemed", "re-scan")
        elif roll < 0.06 and _admitted:
            self._scan(_forge(random.choice(_admitted)), "invalid", "forged")
        elif roll < 0.09 and _admitted:
            # out to the car park and back: the ground admits once a day (no re-entry)
            secret = random.choice(_admitted)
            self._scan(secret, "ok", "exit", kind="exit")
            self._scan(secret, "already_redeemed", "re-entry")
        elif roll < 0.11 and CONFIG.get("other_day"):
            self._scan(random.choice(CONFIG["other_day"]), "wrong_day", "other day")
        else:
            with _lock:
                secret = _to_scan.popleft() if _to_scan else None
            if secret is None:
                time.sleep(0.05)
                return
            self._scan(secret, "ok", "fresh")


class Watcher(FastHttpUser):
    """A phone on the results page: polls with If-None-Match; one in ten holds the stream."""

    weight = 4
    wait_time = between(1, 3)
    etag = ""

    @task(9)
    def poll(self) -> None:
        fid = CONFIG.get("results_festival_id", "")
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(
            f"/api/v1/festivals/{fid}/results", name="results", headers=headers, catch_response=True
        ) as response:
            if response.status_code == 200:
                self.etag = response.headers.get("ETag", "")
                COUNTS["results_delivered"] += 1
            elif response.status_code == 304:
                COUNTS["results_not_modified"] += 1
            else:
                response.failure(f"results: {response.status_code}")

    @task(1)
    def stream(self) -> None:
        """Hold the SSE stream for a few seconds; each event counts as a request."""
        url = f"{self.host}/api/v1/festivals/{CONFIG.get('results_festival_id', '')}/results/stream"
        started = time.perf_counter()
        hold = random.uniform(2, 6)
        try:
            with urllib.request.urlopen(url, timeout=10) as stream:  # noqa: S310 - 127.0.0.1
                opened = time.perf_counter()
                events.request.fire(
                    request_type="SSE",
                    name="results stream open",
                    response_time=(opened - started) * 1000,
                    response_length=0,
                    exception=None,
                )
                while time.perf_counter() - opened < hold:
                    line = stream.readline()
                    if not line:
                        break
                    if line.startswith(b"data:"):
                        COUNTS["results_delivered"] += 1
                        events.request.fire(
                            request_type="SSE",
                            name="results stream event",
                            response_time=0,
                            response_length=len(line),
                            exception=None,
                        )
        except TimeoutError:
            pass  # an idle stream past its hold: nothing was published meanwhile
        except OSError as error:
            events.request.fire(
                request_type="SSE",
                name="results stream open",
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=error,
            )


class Official(FastHttpUser):
    """A race official entering the July races' results (provisional, then corrected)."""

    fixed_count = 1
    wait_time = between(1, 2)
    headers: dict[str, str]

    def on_start(self) -> None:
        username, password = CONFIG.get("official", ["official", ""])
        response = self.client.post(
            "/api/v1/auth/login", name="login", json={"username": username, "password": password}
        )
        token = response.json().get("access_token", "") if response.status_code == 200 else ""
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def enter(self) -> None:
        races = CONFIG.get("races") or []
        if not races:
            return
        race = random.choice(races)
        entries = list(race["entries"])
        random.shuffle(entries)
        with self.client.post(
            f"/api/v1/races/{race['id']}/results",
            name="enter results",
            headers={**self.headers, "Idempotency-Key": uuid.uuid4().hex},
            json={"starters": starters(entries)},
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"results: {response.status_code} {response.text[:120]}")


STAGES = (
    # (festival minute the stage ends, users, classes)
    (20, 20, [Gate, Buyer, Watcher, Official]),  # gates open: the early ones
    (110, 60, [Gate, Buyer, Watcher, Official]),  # the arrival peak (90 minutes)
    (130, 90, [Gate, Buyer, Watcher, Official]),  # the first races: everyone watches
    (200, 50, [Gate, Buyer, Watcher, Official]),
    (230, 90, [Gate, Buyer, Watcher, Official]),  # the afternoon's finals
    (300, 30, [Gate, Watcher, Official]),  # the last results; sales closed
)


class FestivalDay(LoadTestShape):
    """The day's stages at LOAD_SPEEDUP festival seconds per second, at most MAX_SECONDS."""

    _first: float | None = None

    def tick(self) -> tuple[int, float, list[type[FastHttpUser]]] | None:
        # From the first tick: a distributed master's clock starts before its workers join.
        if self._first is None:
            self._first = self.get_run_time()
        wall = self.get_run_time() - self._first
        minute = wall * SPEEDUP / 60
        if wall > MAX_SECONDS:
            return None
        for end, users, classes in STAGES:
            if minute < end:
                count = max(6, int(users * SCALE)) + Gate.fixed_count
                return count, max(10.0, count / 2), classes
        # The day is over: the gates finish the queue of visitors still outside (in
        # distributed mode the queues are the workers': the gates run until MAX_SECONDS).
        distributed = int(os.environ.get("LOAD_LOCUST_PROCESSES", "1")) > 1
        return (Gate.fixed_count, 50.0, [Gate]) if _to_scan or distributed else None


THRESHOLDS = {
    "fail_ratio": float(os.environ.get("LOAD_MAX_FAIL_RATIO", "0.01")),
    "p95_ms": float(os.environ.get("LOAD_P95_MS", "2000")),
    "p99_ms": float(os.environ.get("LOAD_P99_MS", "5000")),
}


@events.quitting.add_listener
def _thresholds(environment: Environment, **_: Any) -> None:
    total = environment.stats.total
    p95 = total.get_response_time_percentile(0.95) or 0
    p99 = total.get_response_time_percentile(0.99) or 0
    broken = []
    if total.fail_ratio > THRESHOLDS["fail_ratio"]:
        broken.append(f"fail ratio {total.fail_ratio:.4f} > {THRESHOLDS['fail_ratio']}")
    if THRESHOLDS["p95_ms"] and p95 > THRESHOLDS["p95_ms"]:
        broken.append(f"p95 {p95:.0f} ms > {THRESHOLDS['p95_ms']:.0f}")
    if THRESHOLDS["p99_ms"] and p99 > THRESHOLDS["p99_ms"]:
        broken.append(f"p99 {p99:.0f} ms > {THRESHOLDS['p99_ms']:.0f}")
    summary = {
        **COUNTS,
        "requests": total.num_requests,
        "fail_ratio": total.fail_ratio,
        "seconds": round((total.last_request_timestamp or total.start_time) - total.start_time, 1),
        "broken": broken,
    }
    if os.environ.get("LOAD_SUMMARY_FILE"):
        runner = environment.runner
        suffix = f".worker{runner.worker_index}" if isinstance(runner, WorkerRunner) else ""
        Path(os.environ["LOAD_SUMMARY_FILE"] + suffix).write_text(json.dumps(summary))
    environment.process_exit_code = 2 if broken else 0
