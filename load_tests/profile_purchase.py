"""Where a paid ticket purchase spends its time: one server worker under cProfile.

    .venv/bin/python -m load_tests.profile_purchase

A fresh database (``BENCH_DATABASE``, default ``events_profile``), the server with ONE
worker run under ``cProfile``, a paid day-ticket type, then ``PROFILE_THREADS`` (8) buyers
for ``PROFILE_SECONDS`` (15) placing one-ticket orders and paying them with the test
provider (``day_seed._buy``: order, payment, the order with its tickets). The worker is
stopped and its profile printed: the functions of the platform and of the libraries it
calls, by their own time and by cumulative time, and the database round trips per ticket.
Figures are those of a profiled process (several times slower than without the
profiler): the shares, not the rates, are the result.
"""

import io
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from load_tests.day_seed import _buy
from load_tests.server import ROOT, events_env, free_port, fresh_database

DATABASE = os.environ.get("BENCH_DATABASE", "events_profile")
THREADS = int(os.environ.get("PROFILE_THREADS", "8"))
SECONDS = float(os.environ.get("PROFILE_SECONDS", "15"))
PASSWORD = "profile-organiser-password"


def _seed(base: str) -> tuple[str, str]:
    client = httpx.Client(base_url=base, timeout=60)
    token = client.post("/api/v1/auth/login", json={"username": "profile", "password": PASSWORD}
                        ).json()["access_token"]
    org = {"Authorization": f"Bearer {token}"}
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    festival = client.post("/api/v1/festivals", headers=org, json={
        "slug": "profile", "name_zh": "剖析", "name_en": "Profile",
        "meetings": [{"name_zh": "今日", "name_en": "Today", "days": [{"date": str(today)}]}],
        "gates": [{"code": "north", "name_zh": "北门", "name_en": "North gate"}]}).json()
    ground = client.post(f"/api/v1/festivals/{festival['id']}/enclosures", headers=org, json={
        "code": "ground", "name_zh": "场", "name_en": "Ground"}).json()
    paid = client.post(f"/api/v1/festivals/{festival['id']}/ticket-types", headers=org, json={
        "code": "paid", "name_zh": "票", "name_en": "Paid", "enclosure_id": ground["id"],
        "day_ids": [festival["meetings"][0]["days"][0]["id"]], "price": 100,
        "max_per_order": 10, "capacity": 1_000_000}).json()
    return festival["id"], paid["id"]


def main() -> int:
    url = fresh_database(DATABASE)
    subprocess.run([sys.executable, "-m", "events", "users", "create", "profile", "--role",
                    "organiser", "--password", PASSWORD], check=True, cwd=ROOT,
                   env=events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url),
                   stdout=subprocess.DEVNULL)
    port = free_port()
    profile = Path(tempfile.mkdtemp()) / "worker.prof"
    server = subprocess.Popen(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "events", "serve"],
        cwd=ROOT, env=events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url,
                                 EVENTS_LOG_LEVEL="WARNING", EVENTS_WORKERS="1",
                                 EVENTS_HOST="127.0.0.1", EVENTS_PORT=str(port)))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        festival_id, type_id = _seed(base)
        sold = [0] * THREADS
        stop = time.monotonic() + SECONDS

        def buyer(index: int) -> None:
            client = httpx.Client(base_url=base, timeout=60)
            while time.monotonic() < stop:
                _, tokens = _buy(client, festival_id, type_id, 1)
                sold[index] += len(tokens)

        threads = [threading.Thread(target=buyer, args=(i,)) for i in range(THREADS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    tickets = sum(sold)
    print(f"{tickets} paid tickets in {elapsed:.1f} s under the profiler "
          f"({tickets / elapsed:.0f}/s; 3 requests each), 1 worker, {THREADS} buyers")
    stats = pstats.Stats(str(profile))
    for order, count in (("tottime", 30), ("cumulative", 45)):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(count)
        print(out.getvalue().split("\n", 8)[-1])
    calls = {name: n for (file, _, name), (_, n, *_rest) in stats.stats.items()  # type: ignore[attr-defined]
             if "asyncpg" in file and name in ("_bind_execute", "_execute", "bind_execute",
                                               "query", "_do_execute")}
    print("asyncpg calls per ticket:", {k: round(v / max(1, tickets), 1)
                                        for k, v in calls.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
