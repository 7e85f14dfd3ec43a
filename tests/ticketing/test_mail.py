"""Confirmation mail: an outbox written with the tickets, delivered after the commit."""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller

from events.app import create_app
from events.config import Settings
from events.db.engine import Database
from events.ticketing import mail
from tests.conftest import Client, serve
from tests.test_jobs import redis_settings  # noqa: F401 (fixture)
from tests.ticketing.conftest import Catalog, buy, pay, scalar


class Sink:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
async def mailing_client(
    settings: Settings, sink: tuple[Sink, int], db: Database
) -> AsyncIterator[Client]:
    app = create_app(
        settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": sink[1],
                "smtp_from": "tickets@dangjiren.test",
                "public_base_url": "https://tickets.example",
            }
        )
    )
    async with serve(app) as client:
        yield client


async def wait_for(predicate: Any, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_paying_sends_one_confirmation_with_a_working_link(
    mailing_client: Client, catalog: Catalog, sink: tuple[Sink, int], db: Database
) -> None:
    handler, _ = sink
    placed = await buy(mailing_client, catalog, [(catalog.day1, 2)], email="drolma@example.com")
    assert handler.messages == []
    await pay(mailing_client, placed)

    async def delivered() -> bool:
        return await scalar(db, "SELECT status FROM ticket_mail") == "sent"

    await wait_for(delivered)
    assert len(handler.messages) == 1
    message = handler.messages[0]
    assert message["To"] == "drolma@example.com"
    assert "tickets@dangjiren.test" in message["From"]
    assert "门票确认" in message["Subject"]
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "测试赛马节" in text
    assert "Test horse-racing festival" in text
    link = next(word for word in text.split() if word.startswith("https://tickets.example/"))
    assert link == placed["order_url"].replace("http://127.0.0.1:8000", "https://tickets.example")
    token = parse_qs(urlsplit(link).query)["access_token"][0]
    opened = await mailing_client.get(
        urlsplit(link).path.replace("/orders/", "/api/v1/orders/"), params={"access_token": token}
    )
    assert opened.status_code == 200
    assert len(opened.json()["tickets"]) == 2
    # Running the sender again sends nothing twice.
    assert await mail.deliver_due(
        mailing_client._transport.app.state.db.engine,  # type: ignore[attr-defined]
        mailing_client._transport.app.state.settings,
    ) == (  # type: ignore[attr-defined]
        mail.DeliveryReport(0, 0)
    )
    assert len(handler.messages) == 1


async def test_smtp_down_keeps_the_purchase_and_the_message_for_later(
    settings: Settings, catalog: Catalog, db: Database, client: Client
) -> None:
    down = settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_timeout_seconds": 2}
    )
    async with serve(create_app(down)) as offline:
        placed = await buy(offline, catalog, [(catalog.child1, 1)])  # free: issued at once

        async def tried() -> bool:
            # The attempt is claimed (``attempts`` + 1) and committed before the SMTP call;
            # its outcome (``last_error``) is written after it. Wait for the outcome.
            return bool(
                await scalar(db, "SELECT attempts > 0 AND last_error <> '' FROM ticket_mail")
            )

        await wait_for(tried)
    got = await client.get(
        f"/api/v1/orders/{placed['order_id']}", params={"access_token": placed["access_token"]}
    )
    assert got.json()["status"] == "paid"
    assert await scalar(db, "SELECT status FROM ticket_mail") == "pending"
    assert await scalar(db, "SELECT last_error FROM ticket_mail") != ""

    # SMTP is back: the next run (``events mail send``) delivers it once it is due.
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=down.smtp_port)
    controller.start()
    try:
        assert await mail.deliver_due(db.engine, down) == mail.DeliveryReport(0, 0)  # backing off
        async with db.engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(text("UPDATE ticket_mail SET next_attempt_at = now()"))
        assert await mail.deliver_due(db.engine, down) == mail.DeliveryReport(1, 1)
    finally:
        controller.stop()
    assert len(handler.messages) == 1
    assert await scalar(db, "SELECT status FROM ticket_mail") == "sent"


async def test_with_redis_the_confirmation_goes_through_the_saq_queue(
    redis_settings: Settings,  # noqa: F811 - the fixture, asked for by name
    catalog: Catalog,
    sink: tuple[Sink, int],
    db: Database,
) -> None:
    handler, port = sink
    app = create_app(
        redis_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    )
    async with serve(app) as client:
        await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))

        async def delivered() -> bool:
            return await scalar(db, "SELECT status FROM ticket_mail") == "sent"

        await wait_for(delivered)
    assert len(handler.messages) == 1


async def test_a_lost_mail_job_is_sent_by_the_sweep(
    settings: Settings, catalog: Catalog, sink: tuple[Sink, int], db: Database
) -> None:
    """The outbox row is the truth: a due row with no job (Redis lost it, the process died)
    is found by the sweep and sent."""
    handler, port = sink
    mailing = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    async with serve(create_app(mailing.model_copy(update={"jobs_worker": False}))) as client:
        await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
        await asyncio.sleep(0.3)
    # No worker, no sweep: the job ran in-process though (enqueued after the commit) unless
    # it was lost; lose it for sure by putting the row back to pending.
    async with db.engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(
            text("UPDATE ticket_mail SET status = 'pending', next_attempt_at = now()")
        )
    sent_before = len(handler.messages)
    async with serve(create_app(mailing.model_copy(update={"jobs_sweep_seconds": 0.05}))):

        async def delivered() -> bool:
            return await scalar(db, "SELECT status FROM ticket_mail") == "sent"

        await wait_for(delivered)
    assert len(handler.messages) == sent_before + 1


async def test_without_an_smtp_host_nothing_is_queued(
    client: Client, catalog: Catalog, db: Database
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    assert await scalar(db, "SELECT count(*) FROM ticket_mail") == 0
    assert await mail.deliver_due(db.engine, Settings(env="test")) == mail.DeliveryReport(0, 0)


def test_backoff_grows_to_an_hour() -> None:
    assert [mail.backoff(n).total_seconds() // 60 for n in (1, 2, 3, 7, 8)] == [1, 2, 4, 60, 60]
