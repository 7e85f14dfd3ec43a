"""Scan latency, quiet and during a flood of wrong passwords, against the real server.

    .venv/bin/python -m load_tests.login_flood

A fresh database (``events_login_flood``) gets a festival on today's date, a few hundred
paid tickets and two gate devices; the real server runs with FLOOD_WORKERS workers
(default 2). Then SCANNERS concurrent gate phones scan for FLOOD_SECONDS, first alone and
then while LOGIN_LOOPS loops post wrong passwords (for one account, and for random
accounts from one address) from a process of their own. Printed: scan p50/p99 in each
phase and the login answers seen. Figures, not assertions.
"""

import asyncio
import itertools
import os
import random
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor

import httpx

from load_tests import bench, server

SECONDS = float(os.environ.get("FLOOD_SECONDS", "10"))
SCANNERS = int(os.environ.get("FLOOD_SCANNERS", "8"))
LOGIN_LOOPS = int(os.environ.get("FLOOD_LOGIN_LOOPS", "8"))
WORKERS = int(os.environ.get("FLOOD_WORKERS", "2"))
_nonces = itertools.count()


async def _scanner(
    client: httpx.AsyncClient, device: str, tokens: list[str], until: float, latencies: list[float]
) -> None:
    headers = {"Authorization": f"Device {device}"}
    while time.monotonic() < until:
        body = {
            "secret": random.choice(tokens),
            "type": "entry",
            "nonce": f"flood-{os.getpid()}-{next(_nonces)}",
        }
        started = time.perf_counter()
        response = await client.post("/api/v1/checkin/scan", json=body, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()


async def _guesser(
    client: httpx.AsyncClient, until: float, answers: dict[int, int], spray: bool
) -> None:
    while time.monotonic() < until:
        username = f"nobody-{uuid.uuid4().hex[:8]}" if spray else "bench"
        response = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": "wrong guess"}
        )
        answers[response.status_code] = answers.get(response.status_code, 0) + 1


def _flood(url: str, seconds: float) -> dict[int, int]:
    """The wrong-password loops, in a process of their own: their client's work must not
    slow the scanners' client (one event loop for both made the scans look slower)."""

    async def run() -> dict[int, int]:
        answers: dict[int, int] = {}
        limits = httpx.Limits(max_connections=LOGIN_LOOPS + 2)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            until = time.monotonic() + seconds
            await asyncio.gather(
                *(_guesser(client, until, answers, spray=i % 2 == 1) for i in range(LOGIN_LOOPS))
            )
        return answers

    return asyncio.run(run())


def _figures(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"{len(ordered):6d} scans  p50 {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms"


async def _measure(url: str, tokens: list[str], devices: list[str]) -> None:
    limits = httpx.Limits(max_connections=SCANNERS + LOGIN_LOOPS + 4)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        quiet: list[float] = []
        until = time.monotonic() + SECONDS
        await asyncio.gather(
            *(
                _scanner(client, devices[i % len(devices)], tokens, until, quiet)
                for i in range(SCANNERS)
            )
        )
        flooded: list[float] = []
        with ProcessPoolExecutor(1) as pool:
            flood = asyncio.get_running_loop().run_in_executor(pool, _flood, url, SECONDS + 1)
            await asyncio.sleep(1)  # the flood is under way before the scans are timed
            until = time.monotonic() + SECONDS
            await asyncio.gather(
                *(
                    _scanner(client, devices[i % len(devices)], tokens, until, flooded)
                    for i in range(SCANNERS)
                )
            )
            answers = await flood
    print(f"quiet           {_figures(quiet)}")
    print(f"login flood     {_figures(flooded)}")
    print(
        "login answers   "
        + ", ".join(f"{status}: {count}" for status, count in sorted(answers.items()))
    )


def main() -> int:
    server.BENCH_DB = "events_login_flood"
    bench.TICKETS = int(os.environ.get("FLOOD_TICKETS", "300"))
    url = server.fresh_database()
    bench._create_organiser(url)
    with server.running_server(url, workers=WORKERS) as running:
        seeded = bench._seed(running.url)
        asyncio.run(_measure(running.url, seeded.tokens, seeded.device_tokens))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
