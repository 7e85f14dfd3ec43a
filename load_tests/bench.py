"""`make bench`: the check-in hot path against a bare one-row UPDATE, on PostgreSQL.

A fresh database `events_bench` gets a festival whose race day is today, N paid tickets
and a few gate devices. The real server runs with as many workers as cores; wrk (C) sends
the load from the same machine, to 127.0.0.1 only. Printed per scenario: requests per
second, p50 and p99 latency, refusals, and the ratio to the baseline measured in the same
run. Figures, not assertions: performance is measured here, not in the tests.

Environment: BENCH_TICKETS (default 30000), BENCH_SECONDS (8), BENCH_CONNECTIONS (64),
BENCH_WORKERS (cores).
"""

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from load_tests.server import ROOT, fresh_database, running_server
from load_tests.wrk import WrkResult, ensure_wrk, run_wrk

TICKETS = int(os.environ.get("BENCH_TICKETS", "30000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)))
THREADS = 2
PASSWORD = "bench-organiser-password"


def _create_organiser(url: str) -> None:
    subprocess.run([sys.executable, "-m", "events", "users", "create", "bench", "--role",
                    "organiser", "--password", PASSWORD], check=True, cwd=ROOT,
                   env={**os.environ, "EVENTS_ENV": "test", "EVENTS_DATABASE_URL": url},
                   stdout=subprocess.DEVNULL)


def _seed(base: str) -> tuple[list[str], list[str], list[str]]:
    """A festival on today's date, TICKETS free day tickets, 4 devices on 2 gates."""
    client = httpx.Client(base_url=base, timeout=60)
    token = client.post("/api/v1/auth/login", json={"username": "bench",
                                                    "password": PASSWORD}).json()["access_token"]
    org = {"Authorization": f"Bearer {token}"}
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    festival = client.post("/api/v1/festivals", headers=org, json={
        "slug": "bench", "name_zh": "压测赛马节", "name_en": "Bench festival",
        "meetings": [{"name_zh": "今日", "name_en": "Today", "days": [{"date": str(today)}]}],
        "gates": [{"code": "north", "name_zh": "北门", "name_en": "North gate"},
                  {"code": "east", "name_zh": "东门", "name_en": "East gate"}]}).json()
    fid = festival["id"]
    day_id = festival["meetings"][0]["days"][0]["id"]
    ground = client.post(f"/api/v1/festivals/{fid}/enclosures", headers=org, json={
        "code": "ground", "name_zh": "草原观赛区", "name_en": "Ground"}).json()
    ticket_type = client.post(f"/api/v1/festivals/{fid}/ticket-types", headers=org, json={
        "code": "day", "name_zh": "当日票", "name_en": "Day ticket", "enclosure_id": ground["id"],
        "day_ids": [day_id], "price": 0, "max_per_order": 100, "capacity": TICKETS}).json()
    tokens: list[str] = []
    started = time.monotonic()
    while len(tokens) < TICKETS:
        order = client.post(f"/api/v1/festivals/{fid}/orders", json={
            "email": "bench@example.com",
            "items": [{"ticket_type_id": ticket_type["id"],
                       "quantity": min(100, TICKETS - len(tokens))}]}).json()
        got = client.get(f"/api/v1/orders/{order['order_id']}",
                         params={"access_token": order["access_token"]}).json()
        tokens += [t["token"] for t in got["tickets"]]
    print(f"seeded {len(tokens)} tickets in {time.monotonic() - started:.1f} s")
    devices = [client.post(f"/api/v1/festivals/{fid}/devices", headers=org, json={
        "gate_id": gate["id"], "name": f"bench-{i}"}).json()
        for i, gate in enumerate(festival["gates"] * 2)]
    return tokens, [d["token"] for d in devices], [d["device_id"] for d in devices]


def _row(name: str, result: WrkResult, baseline: WrkResult | None) -> str:
    ratio = f"{result.rps / baseline.rps:6.0%}" if baseline else "     –"
    return (f"{name:<34} {result.rps:>9,.0f} {result.p50_ms:>8.1f} {result.p99_ms:>8.1f} "
            f"{result.non_2xx:>7} {ratio}")


def main() -> int:
    ensure_wrk()
    url = fresh_database()
    _create_organiser(url)
    results: dict[str, WrkResult] = {}
    with running_server(url, workers=WORKERS,
                        extra_env={"EVENTS_BENCH_ENDPOINTS": "true"}) as server:
        tokens, device_tokens, device_ids = _seed(server.url)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
            handle.write("\n".join(tokens) + "\n")
        env = {"BENCH_TOKENS": handle.name, "BENCH_DEVICE_TOKENS": ",".join(device_tokens),
               "BENCH_DEVICE_IDS": ",".join(device_ids), "BENCH_THREADS": str(THREADS)}

        def load(script: str, run: str) -> WrkResult:
            time.sleep(2)  # let the previous run's connections and autovacuum settle
            return run_wrk(server.url, script, seconds=SECONDS, connections=CONNECTIONS,
                           threads=THREADS, env={**env, "BENCH_RUN": run})

        load("touch.lua", "warm")  # warm-up: pools, caches, JIT-free but cold paths
        results["baseline: bare one-row UPDATE"] = load("touch.lua", "touch")
        results["scan, fresh tickets"] = load("scan.lua", "fresh")
        results["scan, repeated (already in)"] = load("scan.lua", "repeat")
        results["baseline again"] = load("touch.lua", "touch2")
    Path(handle.name).unlink(missing_ok=True)
    used = results["scan, fresh tickets"].requests
    baseline = results["baseline: bare one-row UPDATE"]
    print(f"\nPostgreSQL, {WORKERS} uvicorn workers, wrk -t{THREADS} -c{CONNECTIONS} "
          f"-d{SECONDS}s, {len(tokens)} tickets, 127.0.0.1")
    print(f"{'scenario':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>7}  vs base")
    for name, result in results.items():
        print(_row(name, result, None if name.startswith("baseline") else baseline))
    if used > len(tokens):
        print(f"note: the fresh run sent {used} scans for {len(tokens)} tickets; the excess "
              "were repeats (raise BENCH_TICKETS)")
    out = ROOT / "load_tests" / "results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"bench-{stamp}.json").write_text(json.dumps(
        {name: {"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "non_2xx": r.non_2xx,
                "requests": r.requests} for name, r in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
