"""`make bench`: the check-in hot path and the ticket rush against a bare one-row UPDATE.

A fresh PostgreSQL database `events_bench` gets a festival whose race day is today, N paid
tickets and a few gate devices. The real server runs with as many workers as cores; wrk (C) sends
the load from the same machine, to 127.0.0.1 only. Printed per scenario: requests per
second, p50 and p99 latency, refusals, and the ratio to the baseline measured in the same
run. Figures, not assertions: performance is measured here, not in the tests.

Parts (BENCH_PARTS, comma-separated, default both): ``scan`` (gate scans of fresh and of
already admitted tickets) and ``purchase`` (one-ticket orders of a free type, issued at
once, and of a paid type placed and then paid with the test provider, at 8 and 64
connections; each type has its own quota, and after each run the quota's ``sold`` is
compared with the valid tickets stored: "sold = issued").

``sse`` (BENCH_SSE_SUBSCRIBERS, default 10,000, live results streams held open across the
workers, one change published through Redis as the CLI would: the time until 50 % and 99 %
have it; a small asyncio client, ``sse_fanout.py``).

``live`` (GET /bench/hello, a trivial endpoint of the same app and server: the framework's
ceiling; and the festival's live results document, served from the worker's memory, as
a 200 and as a 304 to If-None-Match; the ratio to the trivial endpoint is printed).

Environment: BENCH_PARTS, BENCH_TICKETS (default 30000), BENCH_SECONDS (8),
BENCH_CONNECTIONS (64), BENCH_WORKERS (cores).
"""

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from events.config import Settings
from events.db.engine import Database
from events.live.wiring import create_feed
from load_tests.server import (
    ADMIN_DSN,
    BENCH_DB,
    ROOT,
    cloned_database,
    events_env,
    running_server,
)
from load_tests.sse_fanout import FanOut, measure
from load_tests.wrk import WrkResult, ensure_wrk, run_wrk

TICKETS = int(os.environ.get("BENCH_TICKETS", "30000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)))
PARTS = set(os.environ.get("BENCH_PARTS", "scan,purchase,live,sse").replace(" ", "").split(","))
SSE_SUBSCRIBERS = int(os.environ.get("BENCH_SSE_SUBSCRIBERS", "10000"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = os.environ.get("BENCH_REDIS_PREFIX", "events-bench") + f"-{os.getpid()}"
THREADS = 2
PURCHASE_CONNECTIONS = (8, 64)
PASSWORD = "bench-organiser-password"


def _create_organiser(url: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "events",
            "users",
            "create",
            "bench",
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
class Seeded:
    festival_id: str
    tokens: list[str]
    device_tokens: list[str]
    device_ids: list[str]
    rush_types: dict[str, str]
    """Scenario name -> ticket type id (a type with its own quota, for the purchase part)."""


def _seed(base: str) -> Seeded:
    """A festival on today's date, TICKETS free day tickets (scan part), a ticket type per
    purchase scenario, 4 devices on 2 gates."""
    client = httpx.Client(base_url=base, timeout=60)
    token = client.post(
        "/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}
    ).json()["access_token"]
    org = {"Authorization": f"Bearer {token}"}
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    festival = client.post(
        "/api/v1/festivals",
        headers=org,
        json={
            "slug": "bench",
            "name_zh": "压测赛马节",
            "name_en": "Bench festival",
            "meetings": [{"name_zh": "今日", "name_en": "Today", "days": [{"date": str(today)}]}],
            "gates": [
                {"code": "north", "name_zh": "北门", "name_en": "North gate"},
                {"code": "east", "name_zh": "东门", "name_en": "East gate"},
            ],
        },
    ).json()
    fid = festival["id"]
    day_id = festival["meetings"][0]["days"][0]["id"]
    ground = client.post(
        f"/api/v1/festivals/{fid}/enclosures",
        headers=org,
        json={"code": "ground", "name_zh": "草原观赛区", "name_en": "Ground"},
    ).json()
    ticket_type = client.post(
        f"/api/v1/festivals/{fid}/ticket-types",
        headers=org,
        json={
            "code": "day",
            "name_zh": "当日票",
            "name_en": "Day ticket",
            "enclosure_id": ground["id"],
            "day_ids": [day_id],
            "price": 0,
            "max_per_order": 100,
            "capacity": TICKETS,
        },
    ).json()
    rush_types = {}
    for price in (0, 100):
        for connections in PURCHASE_CONNECTIONS:
            code = f"rush-{'paid' if price else 'free'}-{connections}"
            rush_types[code] = client.post(
                f"/api/v1/festivals/{fid}/ticket-types",
                headers=org,
                json={
                    "code": code,
                    "name_zh": code,
                    "name_en": code,
                    "enclosure_id": ground["id"],
                    "day_ids": [day_id],
                    "price": price,
                    "max_per_order": 10,
                    "capacity": 1_000_000,
                },
            ).json()["id"]
    tokens: list[str] = []
    started = time.monotonic()
    while "scan" in PARTS and len(tokens) < TICKETS:
        order = client.post(
            f"/api/v1/festivals/{fid}/orders",
            json={
                "email": "bench@example.com",
                "items": [
                    {
                        "ticket_type_id": ticket_type["id"],
                        "quantity": min(100, TICKETS - len(tokens)),
                    }
                ],
            },
        ).json()
        got = client.get(
            f"/api/v1/orders/{order['order_id']}", params={"access_token": order["access_token"]}
        ).json()
        tokens += [t["token"] for t in got["tickets"]]
    if tokens:
        print(f"seeded {len(tokens)} tickets in {time.monotonic() - started:.1f} s")
    devices = [
        client.post(
            f"/api/v1/festivals/{fid}/devices",
            headers=org,
            json={"gate_id": gate["id"], "name": f"bench-{i}"},
        ).json()
        for i, gate in enumerate(festival["gates"] * 2)
    ]
    return Seeded(
        fid, tokens, [d["token"] for d in devices], [d["device_id"] for d in devices], rush_types
    )


@dataclass(frozen=True)
class Sold:
    sold: int
    held: int
    issued: int
    """Valid tickets stored for the type."""


async def _sold(type_id: str) -> Sold:
    conn = await asyncpg.connect(ADMIN_DSN.rsplit("/", 1)[0] + f"/{BENCH_DB}")
    try:
        row = await conn.fetchrow(
            "SELECT q.sold, (SELECT coalesce(sum(h.quantity), 0) FROM ticket_quota_hold h"
            " WHERE h.quota_id = q.id AND h.expires_at > now()) AS held,"
            " (SELECT count(*) FROM ticket t WHERE t.ticket_type_id = q.ticket_type_id"
            "  AND t.status = 'valid') AS issued"
            " FROM ticket_quota q WHERE q.ticket_type_id = $1::uuid",
            type_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return Sold(int(row["sold"]), int(row["held"]), int(row["issued"]))


def _row(name: str, result: WrkResult, baseline: WrkResult | None) -> str:
    ratio = f"{result.rps / baseline.rps:6.0%}" if baseline else "     –"
    return (
        f"{name:<34} {result.rps:>9,.0f} {result.p50_ms:>8.1f} {result.p99_ms:>8.1f} "
        f"{result.non_2xx:>7} {ratio}"
    )


def _purchase_row(name: str, result: WrkResult, sold: Sold, baseline: WrkResult) -> str:
    per_second = sold.issued / result.seconds if result.seconds else 0.0
    check = "yes" if sold.sold == sold.issued else f"NO ({sold.sold} sold)"
    return (
        f"{name:<34} {per_second:>9,.0f} {result.rps:>9,.0f} {result.p50_ms:>8.1f} "
        f"{result.p99_ms:>8.1f} {result.non_2xx:>7} {per_second / baseline.rps:6.1%} "
        f"{sold.issued:>8} {sold.held:>6}  {check}"
    )


async def _fan_out(database_url: str, base_url: str, festival_id: str) -> FanOut:
    """Hold the streams, publish one change through Redis, time the arrivals."""
    settings = Settings(
        env="test", database_url=database_url, redis_url=REDIS_URL, redis_prefix=REDIS_PREFIX
    )
    database = Database(database_url, pool_size=2)
    try:
        async with create_feed(settings, database).running() as feed:
            return await measure(
                base_url,
                festival_id,
                SSE_SUBSCRIBERS,
                lambda: feed.publish(uuid.UUID(festival_id), None, "bench"),
            )
    finally:
        await database.dispose()


def _batch_stats(base: str) -> dict[str, Any] | None:
    """How the workers batched the scans (``GET /bench/batches``, one worker's answer per
    request: asked a few times to hear from each)."""
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(20):
        try:
            answer = httpx.get(base + "/bench/batches", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return None
        seen[answer["pid"]] = answer
    batches = sum(a["batches"] for a in seen.values())
    scans = sum(a["scans"] for a in seen.values())
    return {
        "workers_heard": len(seen),
        "batches": batches,
        "scans": scans,
        "mean_size": round(scans / batches, 2) if batches else 0,
        "largest": max((a["largest"] for a in seen.values()), default=0),
    }


def main() -> int:
    ensure_wrk()
    url = cloned_database(BENCH_DB, _create_organiser)  # migrated once per source tree
    results: dict[str, WrkResult] = {}
    purchases: dict[str, tuple[WrkResult, Sold]] = {}
    fanout: FanOut | None = None
    server_env = {
        "EVENTS_BENCH_ENDPOINTS": "true",
        "EVENTS_REDIS_URL": REDIS_URL,
        "EVENTS_REDIS_PREFIX": REDIS_PREFIX,
    }
    peaks: dict[str, dict[int, float]] = {}
    batches: dict[str, Any] | None = None
    with running_server(url, workers=WORKERS, extra_env=server_env) as server:
        seeded = _seed(server.url)
        tokens = seeded.tokens
        # Half the tickets for scans sent one statement each (batching off), half for
        # scans batched per worker: the before and after of checkin.batch in one sitting.
        alone_tokens, tokens = tokens[: len(tokens) // 2], tokens[len(tokens) // 2 :]
        files = {}
        for name, chunk in (("alone", alone_tokens), ("batched", tokens)):
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
                handle.write("\n".join(chunk) + "\n")
            files[name] = handle.name
        env = {
            "BENCH_TOKENS": files["batched"],
            "BENCH_DEVICE_TOKENS": ",".join(seeded.device_tokens),
            "BENCH_DEVICE_IDS": ",".join(seeded.device_ids),
            "BENCH_THREADS": str(THREADS),
            "BENCH_FESTIVAL": seeded.festival_id,
        }

        def load(
            script: str, run: str, connections: int = CONNECTIONS, base: str = "", **extra: str
        ) -> WrkResult:
            time.sleep(2)  # let the previous run's connections and autovacuum settle
            return run_wrk(
                base or server.url,
                script,
                seconds=SECONDS,
                connections=connections,
                threads=THREADS,
                env={**env, "BENCH_RUN": run, **extra},
            )

        if "scan" in PARTS:
            # Interleaved, so that the other load on a shared machine falls on both alike.
            with running_server(
                url, workers=WORKERS, extra_env={**server_env, "EVENTS_CHECKIN_BATCH_WAIT_MS": "0"}
            ) as alone:
                load("touch.lua", "warm-alone", base=alone.url)
                load("touch.lua", "warm")
                for kind in ("fresh", "repeat"):
                    results[f"baseline before {kind} (off)"] = load(
                        "touch.lua", f"touch-{kind}-alone", base=alone.url
                    )
                    results[f"scan {kind}, one per statement"] = load(
                        "scan.lua", f"{kind}-alone", base=alone.url, BENCH_TOKENS=files["alone"]
                    )
                    results[f"baseline before {kind} (batched)"] = load(
                        "touch.lua", f"touch-{kind}"
                    )
                    results[f"scan {kind}, batched"] = load("scan.lua", kind)
                peaks["batching-off server"] = alone.worker_peaks()
            batches = _batch_stats(server.url)
        load("touch.lua", "warm")  # warm-up: pools, caches, JIT-free but cold paths
        results["baseline: bare one-row UPDATE"] = load("touch.lua", "touch")
        if "purchase" in PARTS:
            for code, type_id in seeded.rush_types.items():
                _, kind, connections = code.split("-")
                script = "buy.lua" if kind == "free" else "buy_paid.lua"
                result = load(script, code, int(connections), BENCH_TYPE=type_id)
                time.sleep(1)  # the last answers' transactions commit
                purchases[f"buy {kind}, wrk -c{connections}"] = (
                    result,
                    asyncio.run(_sold(type_id)),
                )
        if "live" in PARTS:
            document = f"/api/v1/festivals/{seeded.festival_id}/results"
            etag = httpx.get(server.url + document).headers.get("ETag", "")
            results["trivial GET /bench/hello"] = load("get.lua", "hello")
            results["live results, 200 from memory"] = load("get.lua", "live", BENCH_PATH=document)
            results["live results, 304 If-None-Match"] = load(
                "get.lua", "live304", BENCH_PATH=document, BENCH_ETAG=etag
            )
        if "sse" in PARTS:
            fanout = asyncio.run(_fan_out(url, server.url, seeded.festival_id))
        results["baseline again"] = load("touch.lua", "touch2")
        peaks["server"] = server.worker_peaks()
    for name in files.values():
        Path(name).unlink(missing_ok=True)
    baseline = results["baseline: bare one-row UPDATE"]
    print(
        f"\nPostgreSQL, {WORKERS} uvicorn workers, wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{SECONDS}s, {len(tokens)} tickets, 127.0.0.1"
    )
    print(f"{'scenario':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}  vs base")
    for name, result in results.items():
        print(_row(name, result, None if name.startswith("baseline") else baseline))
    if "scan" in PARTS and results["scan fresh, batched"].requests > len(tokens):
        print(
            f"note: the fresh run sent {results['scan fresh, batched'].requests} scans for "
            f"{len(tokens)} tickets; the excess were repeats (raise BENCH_TICKETS)"
        )
    if "scan" in PARTS:
        touches = [r.rps for n, r in results.items() if n.startswith("baseline")]
        mean = sum(touches) / len(touches)
        print(
            f"scans / the mean of the {len(touches)} baseline runs of this sitting "
            f"({mean:,.0f} req/s; each scan run follows its own baseline run):"
        )
        for kind in ("fresh", "repeat"):
            for how in ("one per statement", "batched"):
                scan = results[f"scan {kind}, {how}"]
                before = results[
                    f"baseline before {kind} ({'off' if how == 'one per statement' else 'batched'})"
                ]
                print(
                    f"  scan {kind:<6} {how:<18} {scan.rps / mean:5.0%} of the mean, "
                    f"{scan.rps / before.rps:5.0%} of the run before; p99 {scan.p99_ms:.0f} ms"
                )
        if batches:
            print(f"batches: {batches}")
    if "trivial GET /bench/hello" in results:
        trivial = results["trivial GET /bench/hello"].rps
        for name in ("live results, 200 from memory", "live results, 304 If-None-Match"):
            print(f"{name} / trivial endpoint: {results[name].rps / trivial:.0%}")
    if fanout is not None:
        print(fanout.row())
    if purchases:
        print(
            "\nTicket purchase: one-ticket orders, one quota per type; paid = placed, then "
            "paid with the test provider (two requests per ticket)"
        )
        print(
            f"{'scenario':<34} {'tickets/s':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'non-2xx':>7} vs base {'issued':>8} {'held':>6}  sold = issued"
        )
        for name, (result, sold) in purchases.items():
            print(_purchase_row(name, result, sold, baseline))
    print("\nPeak resident memory per worker (VmHWM after the run; target < 200 MiB):")
    for name, per_worker in peaks.items():
        print(
            f"  {name}: "
            + ", ".join(f"pid {pid} {mib:.0f} MiB" for pid, mib in sorted(per_worker.items()))
        )
    out = ROOT / "load_tests" / "results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"bench-{stamp}.json").write_text(
        json.dumps(
            {
                name: {
                    "rps": r.rps,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "non_2xx": r.non_2xx,
                    "requests": r.requests,
                }
                for name, r in results.items()
            }
            | {
                name: {
                    "tickets_per_s": sold.issued / r.seconds,
                    "rps": r.rps,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "non_2xx": r.non_2xx,
                    "requests": r.requests,
                    "issued": sold.issued,
                    "sold": sold.sold,
                    "held": sold.held,
                }
                for name, (r, sold) in purchases.items()
            }
            | ({"sse fan-out": vars(fanout)} if fanout else {})
            | {
                "peak_rss_mib_per_worker": {
                    name: {str(pid): round(mib, 1) for pid, mib in per_worker.items()}
                    for name, per_worker in peaks.items()
                }
            }
            | ({"scan batches": batches} if "scan" in PARTS and batches else {}),
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
