"""`make load`: a bounded locust run (user journeys) against a fresh local server.

Starts the server on a new PostgreSQL database `events_bench` with the demo loaded, runs
locust headless for a fixed time, prints its statistics and fails on any error. Only
127.0.0.1 is targeted.
"""

import os
import subprocess
import sys

from load_tests.server import ROOT, fresh_database, running_server

USERS = int(os.environ.get("LOAD_USERS", "50"))
SPAWN_RATE = int(os.environ.get("LOAD_SPAWN_RATE", "10"))
RUN_TIME = os.environ.get("LOAD_RUN_TIME", "30s")
WORKERS = int(os.environ.get("LOAD_WORKERS", str(os.cpu_count() or 1)))


def main() -> int:
    url = fresh_database()
    subprocess.run([sys.executable, "-m", "events", "demo"], check=True, cwd=ROOT,
                   env={**os.environ, "EVENTS_ENV": "test", "EVENTS_DATABASE_URL": url},
                   stdout=subprocess.DEVNULL)
    with running_server(url, workers=WORKERS) as server:
        print(f"locust: {USERS} users for {RUN_TIME} against {server.url} ({WORKERS} workers)")
        result = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(ROOT / "load_tests" / "locustfile.py"),
             "--headless", "--host", server.url, "-u", str(USERS), "-r", str(SPAWN_RATE),
             "--run-time", RUN_TIME, "--only-summary", "--exit-code-on-error", "1"],
            cwd=ROOT, check=False)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
