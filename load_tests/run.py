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

Environment: LOAD_VISITORS (12000), LOAD_SPEEDUP (600), LOAD_MAX_SECONDS (90),
LOAD_GATES (16), LOAD_USER_SCALE (1), LOAD_PRESALE_SHARE (0.9), LOAD_WORKERS (cores),
LOAD_MAX_FAIL_RATIO, LOAD_P95_MS, LOAD_P99_MS, LOAD_OUT (report folder),
LOAD_DATABASE (events_load), LOAD_LOCUST_PROCESSES (1).
"""

import csv
import json
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from load_tests.day_seed import seed_day
from load_tests.invariants import Report, check
from load_tests.server import ROOT, asyncpg_dsn, events_env, fresh_database, running_server

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


def run_day(*, database: str = DATABASE, visitors: int = VISITORS, workers: int = WORKERS,
            out: Path | None = None, env: dict[str, str] | None = None) -> DayResult:
    """The whole day (database, server, seed, locust, invariants); nothing printed but
    progress."""
    out = out or Path(os.environ.get(
        "LOAD_OUT", ROOT / "load_tests" / "results" / time.strftime("day-%Y%m%d-%H%M%S")))
    out.mkdir(parents=True, exist_ok=True)
    url = fresh_database(database)
    subprocess.run([sys.executable, "-m", "events", "demo"], check=True, cwd=ROOT,
                   env=events_env(EVENTS_ENV="test", EVENTS_DATABASE_URL=url),
                   stdout=subprocess.DEVNULL)
    config_file, ack_file, summary_file = out / "day.json", out / "acks.jsonl", out / "summary.json"
    ack_file.unlink(missing_ok=True)
    server_env = {"EVENTS_REDIS_URL": REDIS_URL,
                  "EVENTS_REDIS_PREFIX": f"{database}-{uuid.uuid4().hex[:8]}"}
    with running_server(url, workers=workers, extra_env=server_env) as server:
        started = time.monotonic()
        config = seed_day(server.url, config_file, visitors=visitors,
                          presale_share=float(os.environ.get("LOAD_PRESALE_SHARE", "0.9")))
        print(f"seeded {len(config['presold'])} presold tickets, {len(config['races'])} races "
              f"to enter, {len(config['devices'])} gates in {time.monotonic() - started:.1f} s")
        print(f"locust: the day against {server.url} ({workers} workers)")
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "load_tests" / "festival_day.py"),
             "--headless", "--host", server.url, "--csv", str(out / "day"),
             "--html", str(out / "day.html"), "--only-summary", "--loglevel", "WARNING",
             *(["--processes", str(PROCESSES)] if PROCESSES > 1 else [])],
            cwd=ROOT, check=False,
            env={**os.environ, "LOAD_DAY_CONFIG": str(config_file),
                 "LOAD_ACK_FILE": str(ack_file), "LOAD_SUMMARY_FILE": str(summary_file),
                 "LOAD_LOCUST_PROCESSES": str(PROCESSES),
                 **(env or {})})
    # The acknowledged presale orders count too: their buyers were told they were paid.
    with ack_file.open("a") as acks:
        for order in config["presale_orders"]:
            acks.write(json.dumps({"kind": "order", **order}) + "\n")
    report = check(asyncpg_dsn(database), ack_file)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    for worker in sorted(out.glob("summary.json.worker*")):  # distributed: the workers' counts
        for key, value in json.loads(worker.read_text()).items():
            if key in ("sold", "admitted", "results_delivered", "results_not_modified"):
                summary[key] = int(summary.get(key, 0)) + int(value)
    passed = report.ok and locust.returncode == 0
    sold_today = summary.get("sold", 0)
    line = (f"{'PASS' if passed else 'FAIL'}: {report.figures.get('admitted', 0)} visitors "
            f"admitted, {report.figures.get('tickets_valid', 0)} tickets sold "
            f"({sold_today} today), {summary.get('results_delivered', 0)} results delivered "
            f"(+{summary.get('results_not_modified', 0)} not modified), "
            f"{summary.get('requests', 0)} requests in {summary.get('seconds', 0)} s, fail ratio "
            f"{float(str(summary.get('fail_ratio', 0))):.4f}; p95/p99 ms: "
            f"{_percentiles(out / 'day_stats.csv')}")
    return DayResult(passed, line, report, summary, locust.returncode, out)


def main() -> int:
    result = run_day()
    print(f"reports: {result.out / 'day.html'}, {result.out / 'day_stats.csv'}, "
          f"{result.out / 'day_failures.csv'}, acknowledgements {result.out / 'acks.jsonl'}")
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
