"""Start the real server (uvicorn, N workers) on a fresh PostgreSQL database for a benchmark.

Only 127.0.0.1 is ever used. The database ``events_bench`` is dropped and recreated, then
migrated; nothing else on the machine is touched.
"""

import asyncio
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get(
    "EVENTS_BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BENCH_DB = os.environ.get("BENCH_DATABASE", "events_bench")
PORTS = os.environ.get("LOAD_PORTS", "")
"""``first-last``: the ports this run may listen on (a shared machine gives each engineer a
range); empty: any free port."""
SECRET_KEY = os.environ.get("EVENTS_SECRET_KEY") or secrets.token_urlsafe(48)
"""One signing key for every process of a run (the demo loader, the workers): without it
each process of EVENTS_ENV=test would invent its own. Passed to the processes it starts,
never put into this process's own environment (the tests run beside it)."""


def events_env(**values: str) -> dict[str, str]:
    """The environment of a process this run starts: ours, the run's key, ``values``."""
    return {**os.environ, "EVENTS_SECRET_KEY": SECRET_KEY, **values}


def bench_database_url(name: str = BENCH_DB) -> str:
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def asyncpg_dsn(name: str = BENCH_DB) -> str:
    """The database for asyncpg itself (checks after a run)."""
    return ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"


async def _recreate_database(name: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _source_key() -> str:
    """A digest of the code that decides what a migrated, demo-loaded database holds."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "events").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


async def _template_key(name: str) -> str | None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        value: str | None = await conn.fetchval(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", name
        )
        return value
    finally:
        await conn.close()


async def _clone(template: str, name: str, key: str | None) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        if key is not None:
            await conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{key}'")
        for database in (template, name):
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()


def cloned_database(name: str, build: Callable[[str], None]) -> str:
    """``name`` as a copy of a template database that was migrated and then ``build`` (the
    demo, through the CLI) once for this source tree: a run after the first skips both
    (a minute on a busy machine) and starts from the same contents. The template
    (``<name>_template``) is remade when any file under src/events changes."""
    template = f"{name}_template"
    key = _source_key()
    if asyncio.run(_template_key(template)) != key:
        build(fresh_database(template))
        asyncio.run(_clone(template, name, key))
    else:
        asyncio.run(_clone(template, name, None))
    return bench_database_url(name)


def fresh_database(name: str = BENCH_DB) -> str:
    """Drop, create and migrate the database (`events_bench` unless named); its URL."""
    from events.db import migrate

    asyncio.run(_recreate_database(name))
    url = bench_database_url(name)
    migrate.upgrade(url)
    return url


START_SECONDS = float(os.environ.get("LOAD_START_SECONDS", "120"))
"""How long a server may take to answer /health (a shared machine under load is slow)."""
_taken: set[int] = set()


def free_port() -> int:
    """A free port on 127.0.0.1: in LOAD_PORTS when set, never one this run handed out."""
    candidates = [0]
    if PORTS:
        first, last = (int(x) for x in PORTS.split("-"))
        candidates = [p for p in range(first, last + 1) if p not in _taken]
    for candidate in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            _taken.add(port)
            return port
    raise RuntimeError(f"no free port in LOAD_PORTS={PORTS}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found += [child, *_descendants(child)]
    return found


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def worker_pids(pid: int) -> list[int]:
    """The processes under ``pid`` that serve requests (uvicorn's workers)."""
    return [p for p in _descendants(pid) if "multiprocessing.resource_tracker" not in _cmdline(p)]


def worker_peaks(pid: int) -> dict[int, float]:
    """Peak resident memory (VmHWM, MiB) of each process under ``pid`` that serves requests
    (uvicorn's workers; the server itself when it has none)."""
    processes = worker_pids(pid)
    return {
        p: kib / 1024 for p in processes or [pid] if (kib := _status_kib(p, "VmHWM")) is not None
    }


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Server:
    url: str
    pid: int

    def worker_peaks(self) -> dict[int, float]:
        """Peak resident MiB of each worker so far (read before the server stops)."""
        return worker_peaks(self.pid)


@contextmanager
def running_server(
    database_url: str,
    *,
    workers: int,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    port = free_port()
    env = events_env(
        EVENTS_ENV="test",
        EVENTS_DATABASE_URL=database_url,
        EVENTS_LOG_LEVEL="WARNING",
        EVENTS_WORKERS=str(workers),
        EVENTS_HOST="127.0.0.1",
        EVENTS_PORT=str(port),
        **(extra_env or {}),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "events", "serve"], env=env, cwd=ROOT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield Server(url=url, pid=process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed already (make crash)
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
