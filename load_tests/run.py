"""`make load`: a festival day in locust against a fresh local server, then its invariants.

1. A fresh PostgreSQL database (`LOAD_DATABASE`, default `events_load`), migrated; the demo
   festival loaded with `events demo`.
2. The server (`events serve`, workers = cores) with the live feed on Redis
   (`EVENTS_REDIS_URL`, default redis://127.0.0.1:6379/0) under a key prefix of its own.
3. The day's festival, tickets, presale and gate devices seeded (`load_tests.day_seed`).
4. locust headless (`load_tests/festival_day.py`): CSV and HTML reports, thresholds.
5. The invariants read from the database (`load_tests.invariants`).

One line at the end says PASS or FAIL with visitors admitted, tickets sold, results
delivered, and p95/p99 per request kind. A violated invariant fails whatever the latency.
Only 127.0.0.1 is targeted.

Environment: LOAD_VISITORS (12000), LOAD_SPEEDUP (1000), LOAD_MAX_SECONDS (90),
LOAD_GATES (48), LOAD_USER_SCALE (1), LOAD_PRESALE_SHARE (0.9), LOAD_WORKERS (cores),
LOAD_MAX_FAIL_RATIO, LOAD_P95_MS, LOAD_P99_MS, LOAD_OUT (report folder),
LOAD_DATABASE (events_load), LOAD_LOCUST_PROCESSES (1), LOAD_PORTS (first-last: the ports
used), LOAD_APPS (1: app processes behind a balancer), LOAD_LOCUST_WORKERS (0: locust
distributed, a master and that many worker processes), LOAD_BALANCER (haproxy if
installed, else ``python``: load_tests.balancer).
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from load_tests.balancer import haproxy_config
from load_tests.day_seed import seed_day
from load_tests.invariants import Report, check
from load_tests.server import (
    ROOT,
    asyncpg_dsn,
    cloned_database,
    events_env,
    free_port,
    running_server,
)

DATABASE = os.environ.get("LOAD_DATABASE", "events_load")
VISITORS = int(os.environ.get("LOAD_VISITORS", "12000"))
WORKERS = int(os.environ.get("LOAD_WORKERS", str(os.cpu_count() or 1)))
PROCESSES = int(os.environ.get("LOAD_LOCUST_PROCESSES", "1"))
"""locust worker processes (`--processes`, distributed mode on one machine)."""
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class DayResult:
    passed: bool
    line: str
    report: Report
    summary: dict[str, object]
    locust_exit: int
    out: Path


def _percentiles(stats_csv: Path) -> str:
    if not stats_csv.exists():
        return "no stats"
    parts = []
    with stats_csv.open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated" or not row.get("95%") or row["Request Count"] == "0":
                continue
            parts.append(f"{row['Name']} {row['95%']}/{row['99%']}")
    return "; ".join(parts)


def _load_demo(url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "events", "demo"],
        check=True,
        cwd=ROOT,
        env=events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url),
        stdout=subprocess.DEVNULL,
    )


class _Clock:
    """Where the run's wall time goes."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now

    def total(self) -> float:
        return time.monotonic() - self.start


@contextmanager
def serving(
    url: str, *, workers: int, apps: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """The app's address: one ``events serve`` with ``workers`` workers, or ``apps`` of
    them (as on several hosts: they share only PostgreSQL and Redis) behind a balancer
    (haproxy when installed, else ``load_tests.balancer``)."""
    if apps <= 1:
        with running_server(url, workers=workers, extra_env=extra_env) as server:
            yield server.url
        return
    with ExitStack() as stack:
        servers = [
            stack.enter_context(running_server(url, workers=workers, extra_env=extra_env))
            for _ in range(apps)
        ]
        backends = [("127.0.0.1", int(s.url.rsplit(":", 1)[1])) for s in servers]
        port = free_port()
        haproxy = shutil.which("haproxy")
        if haproxy and os.environ.get("LOAD_BALANCER", "haproxy") == "haproxy":
            config = Path(tempfile.mkdtemp()) / "haproxy.cfg"
            config.write_text(haproxy_config(port, backends))
            command = [haproxy, "-f", str(config), "-db"]
        else:
            command = [
                sys.executable,
                "-m",
                "load_tests.balancer",
                str(port),
                *(f"{h}:{p}" for h, p in backends),
            ]
        balancer = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        stack.callback(balancer.wait, 10)
        stack.callback(balancer.terminate)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if balancer.poll() is not None:
                raise RuntimeError(f"the balancer ({command[0]}) exited: {balancer.returncode}")
            with suppress(httpx.HTTPError):
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"the balancer on {base} does not answer")
        print(f"balancer: {Path(command[0]).name} on {base} → " + ", ".join(s.url for s in servers))
        yield base


def _distributed_locust(
    command: list[str],
    reports: list[str],
    workers: int,
    env: dict[str, str],
    out: Path,
    ack_file: Path,
) -> int:
    """locust in distributed mode: a master (the shape, the statistics, the reports and
    the thresholds) and ``workers`` worker processes, each with its own acknowledgements
    file (as on separate machines), merged into ``ack_file`` afterwards."""
    port = free_port()
    master = subprocess.Popen(
        [
            *command,
            *reports,
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(workers),
        ],
        cwd=ROOT,
        env=env,
    )
    children = [
        subprocess.Popen(
            [*command, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            cwd=ROOT,
            env={**env, "LOAD_ACK_FILE": str(out / f"acks-worker{i}.jsonl")},
            stdout=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    returncode = master.wait()
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    with ack_file.open("a") as merged:
        for i in range(workers):
            part = out / f"acks-worker{i}.jsonl"
            if part.exists():
                merged.write(part.read_text())
    return returncode


def run_day(
    *,
    database: str = DATABASE,
    visitors: int = VISITORS,
    workers: int = WORKERS,
    out: Path | None = None,
    env: dict[str, str] | None = None,
    apps: int = 1,
    locust_workers: int = 0,
) -> DayResult:
    """The whole day (database, server, seed, locust, invariants); nothing printed but
    progress. ``apps`` app processes behind a balancer and locust as a master with
    ``locust_workers`` workers when given (`make load-distributed`)."""
    out = out or Path(
        os.environ.get(
            "LOAD_OUT", ROOT / "load_tests" / "results" / time.strftime("day-%Y%m%d-%H%M%S")
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    clock = _Clock()
    url = cloned_database(database, _load_demo)
    clock.lap("database (migrated, demo loaded through the CLI; a copy after the first run)")
    config_file, ack_file, summary_file = out / "day.json", out / "acks.jsonl", out / "summary.json"
    ack_file.unlink(missing_ok=True)
    server_env = {
        "EVENTS_REDIS_URL": REDIS_URL,
        "EVENTS_REDIS_PREFIX": f"{database}-{uuid.uuid4().hex[:8]}",
    }
    with serving(url, workers=workers, apps=apps, extra_env=server_env) as base_url:
        clock.lap("server started")
        started = time.monotonic()
        config = seed_day(
            base_url,
            config_file,
            visitors=visitors,
            presale_share=float(os.environ.get("LOAD_PRESALE_SHARE", "0.9")),
        )
        print(
            f"seeded {len(config['presold'])} presold tickets, {len(config['races'])} races "
            f"to enter, {len(config['devices'])} gates in {time.monotonic() - started:.1f} s"
        )
        clock.lap("day seeded through the API")
        print(
            f"locust: the day against {base_url} ({apps} app process(es) of {workers} "
            f"worker(s)"
            + (f"; locust master and {locust_workers} workers)" if locust_workers else ")")
        )
        locust_env = {
            **os.environ,
            "LOAD_DAY_CONFIG": str(config_file),
            "LOAD_ACK_FILE": str(ack_file),
            "LOAD_SUMMARY_FILE": str(summary_file),
            "LOAD_LOCUST_PROCESSES": str(locust_workers or PROCESSES),
            **(env or {}),
        }
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "load_tests" / "festival_day.py"),
            "--headless",
            "--host",
            base_url,
            "--loglevel",
            "WARNING",
        ]
        reports = ["--csv", str(out / "day"), "--html", str(out / "day.html"), "--only-summary"]
        if locust_workers:
            returncode = _distributed_locust(
                command, reports, locust_workers, locust_env, out, ack_file
            )
        else:
            returncode = subprocess.run(
                [*command, *reports, *(["--processes", str(PROCESSES)] if PROCESSES > 1 else [])],
                cwd=ROOT,
                check=False,
                env=locust_env,
            ).returncode
        clock.lap("locust day")
    # The acknowledged presale orders count too: their buyers were told they were paid.
    with ack_file.open("a") as acks:
        for order in config["presale_orders"]:
            acks.write(json.dumps({"kind": "order", **order}) + "\n")
    report = check(asyncpg_dsn(database), ack_file)
    clock.lap("invariants checked")
    print(
        "wall time: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in clock.laps)
        + f"; in all {clock.total():.1f} s"
    )
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    for worker in sorted(out.glob("summary.json.worker*")):  # distributed: the workers' counts
        for key, value in json.loads(worker.read_text()).items():
            if key in ("sold", "admitted", "results_delivered", "results_not_modified"):
                summary[key] = int(summary.get(key, 0)) + int(value)
    passed = report.ok and returncode == 0 and int(str(summary.get("requests", 0))) > 0
    sold_today = summary.get("sold", 0)
    line = (
        f"{'PASS' if passed else 'FAIL'}: {report.figures.get('admitted', 0)} visitors "
        f"admitted, {report.figures.get('tickets_valid', 0)} tickets sold "
        f"({sold_today} today), {summary.get('results_delivered', 0)} results delivered "
        f"(+{summary.get('results_not_modified', 0)} not modified), "
        f"{summary.get('requests', 0)} requests in {summary.get('seconds', 0)} s, fail ratio "
        f"{float(str(summary.get('fail_ratio', 0))):.4f}; p95/p99 ms: "
        f"{_percentiles(out / 'day_stats.csv')}"
    )
    return DayResult(passed, line, report, summary, returncode, out)


def main() -> int:
    result = run_day(
        apps=int(os.environ.get("LOAD_APPS", "1")),
        locust_workers=int(os.environ.get("LOAD_LOCUST_WORKERS", "0")),
    )
    print(
        f"reports: {result.out / 'day.html'}, {result.out / 'day_stats.csv'}, "
        f"{result.out / 'day_failures.csv'}, acknowledgements {result.out / 'acks.jsonl'}"
    )
    for name, problems in result.report.violations.items():
        print(f"invariant {'holds' if not problems else 'VIOLATED'}: {name}")
        for problem in problems:
            print(f"    {problem}")
    for broken in result.summary.get("broken", []) or []:  # type: ignore[union-attr]
        print(f"threshold broken: {broken}")
    print(result.line)
    return 0 if result.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
