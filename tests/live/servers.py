"""Real server processes for tests that cross processes (``events serve`` under uvicorn)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server_processes(count: int, **env: str) -> Iterator[list[str]]:
    """``count`` servers of the app on free ports, sharing ``env``; yields their base URLs."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "events", "serve", "--port", str(port)],
            env={
                **os.environ,
                "EVENTS_ENV": "test",
                "EVENTS_LOG_LEVEL": "WARNING",
                "EVENTS_SECRET_KEY": "test-only-secret-key-for-server-processes-0000",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 90  # a busy 2-core machine starts slowly
        for url, process in zip(urls, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"server exited: {process.stderr.read().decode()[-2000:]}"
                        if process.stderr
                        else "server exited"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not start")
                time.sleep(0.1)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
