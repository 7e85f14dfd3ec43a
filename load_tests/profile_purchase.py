"""Where a paid ticket purchase spends its time: one server worker under cProfile.

    .venv/bin/python -m load_tests.profile_purchase

A fresh database (``BENCH_DATABASE``, default ``events_profile``), the app served by
uvicorn in a thread of this process, a paid day-ticket type, then ``PROFILE_THREADS`` (8)
buyers in another process for ``PROFILE_SECONDS`` (15) placing one-ticket orders and
paying them with the test provider (``day_seed._buy``: order, payment, the order with its
tickets). Only the server's thread is profiled, by its own CPU time, and only while the
buyers buy: the functions of the platform and of the libraries it calls by own and by
cumulative time, the share per package and the database round trips per ticket. The
rates are those of a profiled process (several times slower): the shares are the result.
"""

import asyncio
import cProfile
import io
import multiprocessing
import os
import pstats
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from load_tests.day_seed import _buy
from load_tests.server import ROOT, cloned_database, events_env, free_port

DATABASE = os.environ.get("BENCH_DATABASE", "events_profile")
THREADS = int(os.environ.get("PROFILE_THREADS", "8"))
SECONDS = float(os.environ.get("PROFILE_SECONDS", "15"))
PASSWORD = "profile-organiser-password"


def _seed(base: str) -> tuple[str, str]:
    client = httpx.Client(base_url=base, timeout=60)
    token = client.post(
        "/api/v1/auth/login", json={"username": "profile", "password": PASSWORD}
    ).json()["access_token"]
    org = {"Authorization": f"Bearer {token}"}
    import datetime as dt
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    festival = client.post(
        "/api/v1/festivals",
        headers=org,
        json={
            "slug": "profile",
            "name_zh": "剖析",
            "name_en": "Profile",
            "meetings": [{"name_zh": "今日", "name_en": "Today", "days": [{"date": str(today)}]}],
            "gates": [{"code": "north", "name_zh": "北门", "name_en": "North gate"}],
        },
    ).json()
    ground = client.post(
        f"/api/v1/festivals/{festival['id']}/enclosures",
        headers=org,
        json={"code": "ground", "name_zh": "场", "name_en": "Ground"},
    ).json()
    paid = client.post(
        f"/api/v1/festivals/{festival['id']}/ticket-types",
        headers=org,
        json={
            "code": "paid",
            "name_zh": "票",
            "name_en": "Paid",
            "enclosure_id": ground["id"],
            "day_ids": [festival["meetings"][0]["days"][0]["id"]],
            "price": 100,
            "max_per_order": 10,
            "capacity": 1_000_000,
        },
    ).json()
    return festival["id"], paid["id"]


def _buyers(
    base: str, festival_id: str, type_id: str, seconds: float, threads: int, sold: Any
) -> None:
    """In a process of its own (the buyers' Python must not take the server's GIL)."""
    stop = time.monotonic() + seconds

    def buyer(index: int) -> None:
        client = httpx.Client(base_url=base, timeout=60)
        while time.monotonic() < stop:
            try:
                _, tokens = _buy(client, festival_id, type_id, 1)
            except (httpx.HTTPError, RuntimeError):
                continue  # a timeout on a loaded machine: not counted
            with sold.get_lock():
                sold.value += len(tokens)

    running = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


def main() -> int:
    url = cloned_database(DATABASE, _create_organiser)
    port = free_port()
    os.environ.update(
        events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url, EVENTS_LOG_LEVEL="WARNING")
    )
    import uvicorn

    from events.app import create_app
    from events.config import Settings

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Settings()), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    loops: list[asyncio.AbstractEventLoop] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve())

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    festival_id, type_id = _seed(base)
    for _ in range(3):  # warm: the first statements of each kind are prepared
        _buy(httpx.Client(base_url=base, timeout=60), festival_id, type_id, 1)
    # The server's thread only, by its own CPU time (not the buyers', not waiting).
    profiler = cProfile.Profile(time.thread_time)
    loop = loops[0]
    loop.call_soon_threadsafe(profiler.enable)
    context = multiprocessing.get_context("spawn")
    sold = context.Value("i", 0)
    started = time.monotonic()
    buyers = context.Process(
        target=_buyers, args=(base, festival_id, type_id, SECONDS, THREADS, sold)
    )
    buyers.start()
    buyers.join()
    elapsed = time.monotonic() - started
    done = threading.Event()
    loop.call_soon_threadsafe(lambda: (profiler.disable(), done.set()))
    done.wait(10)
    server.should_exit = True
    serving.join(30)
    tickets = int(sold.value)
    print(
        f"{tickets} paid tickets in {elapsed:.1f} s under the profiler "
        f"({tickets / elapsed:.0f}/s; 3 requests each), 1 worker in-process, {THREADS} buyers"
    )
    stats = pstats.Stats(profiler)
    total = sum(
        t
        for (_, _, tt, _, _) in stats.stats.values()  # type: ignore[attr-defined]
        for t in (tt,)
    )
    print(f"server thread CPU {total:.2f} s: {total / max(1, tickets) * 1000:.1f} ms per ticket")
    groups: dict[str, float] = {}
    for (file, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        groups[_group(file)] = groups.get(_group(file), 0.0) + own
    print(
        "own CPU by package: "
        + ", ".join(
            f"{name} {share / total:.0%}"
            for name, share in sorted(groups.items(), key=lambda kv: -kv[1])[:12]
        )
    )
    for order, count in (("tottime", 25), ("cumulative", 40)):
        out = io.StringIO()
        stats.stream = out  # type: ignore[attr-defined]
        stats.sort_stats(order).print_stats(count)
        print(out.getvalue().split("\n", 8)[-1])
    calls = sum(
        n
        for (file, _, name), (_, n, *_rest) in stats.stats.items()  # type: ignore[attr-defined]
        if (file.endswith("asyncpg/prepared_stmt.py") and name == "__do_execute")
        or (file.endswith("asyncpg/connection.py") and name == "_do_execute")
    )
    print(f"database round trips per ticket (asyncpg executions): {calls / max(1, tickets):.1f}")
    return 0


def _group(file: str) -> str:
    if "/site-packages/" in file:
        return file.split("/site-packages/")[1].split("/")[0]
    if "/src/events/" in file:
        return "events." + file.split("/src/events/")[1].split("/")[0].removesuffix(".py")
    if file.startswith(("~", "<")):
        return "builtins"
    return "stdlib"


def _create_organiser(url: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "events",
            "users",
            "create",
            "profile",
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


if __name__ == "__main__":
    raise SystemExit(main())
