"""Find my tickets: a link to each paid order, sent to the address asked for; the answer
is the same whether or not there are orders; asking is limited."""

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from playwright.async_api import Page, expect

from events import notify
from events.config import Settings
from events.ticketing import lookup
from events.ticketing.lookup_controllers import ACCEPTED
from tests.browser import LiveServer
from tests.conftest import Client, make_settings
from tests.ticketing.conftest import Catalog, buy, pay
from tests.ticketing.test_mail import Sink, free_port

FIND = "/api/v1/tickets/find"
SUBJECT = "您的门票 Your tickets"


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture
def settings(pg_url: str, sink: tuple[Sink, int]) -> Settings:
    return make_settings(
        pg_url, smtp_host="127.0.0.1", smtp_port=sink[1], smtp_from="tickets@dangjiren.test"
    )


def lookups(sink: Sink) -> list[EmailMessage]:
    return [m for m in sink.messages if m["Subject"] == SUBJECT]


async def wait_for_lookups(sink: Sink, count: int) -> list[EmailMessage]:
    for _ in range(200):
        if len(lookups(sink)) >= count:
            return lookups(sink)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} lookup messages expected, got {len(lookups(sink))}")


def links_of(message: EmailMessage) -> list[str]:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return sorted({w for w in text.split() if "/orders/" in w})


@pytest.mark.browser
async def test_a_spectator_finds_the_order_by_email_and_opens_the_tickets(
    client: Client, catalog: Catalog, live_server: LiveServer, page: Page, sink: tuple[Sink, int]
) -> None:
    handler, _ = sink
    placed = await buy(client, catalog, [(catalog.day1, 2)], email="Lhamo@Example.com")
    await pay(client, placed)
    unpaid = await buy(client, catalog, [(catalog.day2, 1)], email="lhamo@example.com")

    await page.goto(f"{live_server.url}/festivals/{catalog.festival_id}/tickets")
    await page.get_by_test_id("find-link").click()
    await page.wait_for_url(f"{live_server.url}/tickets/find")
    await page.get_by_test_id("email").fill("lhamo@example.com")
    await page.get_by_test_id("find-submit").click()
    await expect(page.get_by_test_id("message")).to_have_attribute("data-state", "sent")

    [message] = await wait_for_lookups(handler, 1)
    assert message["To"] == "lhamo@example.com"
    assert "tickets@dangjiren.test" in message["From"]
    [link] = links_of(message)  # the paid order only
    assert link.startswith(f"{live_server.url}/orders/{placed['order_id']}?access_token=")
    assert unpaid["order_id"] not in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert parse_qs(urlsplit(link).query)["access_token"] == [placed["access_token"]]

    await page.goto(link)
    await expect(page.get_by_test_id("order-status")).to_have_attribute("data-status", "paid")
    await expect(page.get_by_test_id("ticket")).to_have_count(2)


async def test_the_answer_is_the_same_with_or_without_orders(
    client: Client, catalog: Catalog, sink: tuple[Sink, int]
) -> None:
    handler, _ = sink
    placed = await buy(client, catalog, [(catalog.day1, 1)], email="dorje@example.com")
    await pay(client, placed)

    known = await client.post(FIND, json={"email": "dorje@example.com"})
    unknown = await client.post(FIND, json={"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json() == {"status": "accepted", "detail": ACCEPTED}
    assert known.headers["content-length"] == unknown.headers["content-length"]
    [message] = await wait_for_lookups(handler, 1)
    assert message["To"] == "dorje@example.com"
    await asyncio.sleep(0.3)
    assert len(lookups(handler)) == 1  # nothing to the address without orders


async def test_asking_is_limited_per_address_and_per_client(
    client: Client, sink: tuple[Sink, int]
) -> None:
    for _ in range(lookup.PER_ADDRESS):
        assert (await client.post(FIND, json={"email": "tenzin@example.com"})).status_code == 202
    limited = await client.post(FIND, json={"email": "Tenzin@example.com"})
    assert limited.status_code == 429
    assert limited.json()["code"] == "lookup_throttled"
    assert 0 < int(limited.headers["Retry-After"]) <= lookup.WINDOW_SECONDS
    # Another address from the same client still gets an answer, up to the client's limit.
    answers = [
        await client.post(FIND, json={"email": f"guest{i}@example.com"})
        for i in range(lookup.PER_CLIENT)
    ]
    codes = [a.status_code for a in answers]
    assert codes.count(202) == lookup.PER_CLIENT - lookup.PER_ADDRESS - 1
    assert codes[-1] == 429


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com", "phone": "13800138000"},
        {"email": "=HYPERLINK(1)"},
        {"phone": "call me"},
    ],
)
async def test_a_bad_question_is_a_422(client: Client, body: dict[str, Any]) -> None:
    response = await client.post(FIND, json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


class Texts:
    def __init__(self) -> None:
        self.sent: list[notify.Message] = []

    async def send(self, settings: Settings, message: notify.Message) -> None:
        self.sent.append(message)


async def test_a_mobile_number_gets_its_links_through_the_sms_seam(
    client: Client, catalog: Catalog
) -> None:
    texts = Texts()
    previous = notify.register_sms(texts)
    try:
        placed = await buy(
            client, catalog, [(catalog.day1, 1)], email="", phone="+86 138-0013-8000"
        )
        await pay(client, placed)
        assert (await client.post(FIND, json={"phone": "+8613800138000"})).status_code == 202
        for _ in range(100):
            if texts.sent:
                break
            await asyncio.sleep(0.05)
    finally:
        notify.register_sms(previous)
    [text] = texts.sent
    assert (text.channel, text.to) == (notify.Channel.SMS, "+8613800138000")
    assert f"/orders/{placed['order_id']}?access_token={placed['access_token']}" in text.text
