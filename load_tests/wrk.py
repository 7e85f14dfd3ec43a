"""Drive wrk (a C load generator: locust itself tops out far below this API, perf.md §3)."""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
            subprocess.run(
                command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is needed for `make bench`: apt-get install wrk")
    return path


def run_wrk(
    url: str,
    script: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 2,
    env: dict[str, str] | None = None,
) -> WrkResult:
    """Run wrk with one of our Lua scripts; its done() prints a JSON summary line."""
    import os

    completed = subprocess.run(
        [
            ensure_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(LUA / script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    line = next(x for x in completed.stdout.splitlines() if x.startswith("JSON "))
    data = json.loads(line[5:])
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=data["errors"],
        non_2xx=data["non_2xx"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
