"""Real headless Chromium against the app served on 127.0.0.1.

``live_server`` runs the app under uvicorn in a thread (real HTTP, real PostgreSQL);
``page`` is a Playwright page in Debian's Chromium (``make test`` installs it). Without
Chromium the browser tests skip loudly, except under CI, where they fail.
"""

import shutil
import socket
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright

from events.app import create_app
from events.config import Settings

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    from tests.conftest import IN_CI

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (make test installs Debian's chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        warnings.warn(f"\n\n*** {message}: SKIPPING browser tests ***\n", stacklevel=1)
        pytest.skip(message)
    return path


@dataclass
class LiveServer:
    url: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(settings: Settings, db: object) -> Iterator[LiveServer]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # No EVENTS_PUBLIC_BASE_URL (unless the test's settings say one): links are built from
    # the address each request came to, this server's own port.
    live_settings = settings.model_copy(update={"port": port})
    config = uvicorn.Config(
        create_app(live_settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    yield LiveServer(url=url, settings=live_settings)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        await instance.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A phone-sized page (360×780, touch), as most people here use the platform."""
    context = await browser.new_context(
        viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    tab = await context.new_page()
    yield tab
    await context.close()
