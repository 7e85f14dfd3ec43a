"""The organisers' funding page in headless Chromium: the summary and its warning, the two
server-drawn SVG charts, recording a receipt, a refusal, a reversal, the ledger's filters,
and a sponsor's statement."""

import re
import uuid
from typing import Any

from playwright.async_api import Page, expect

from events.access.models import Role
from events.db.engine import Database
from tests.browser import LiveServer
from tests.checkin.test_devices_page import sign_in
from tests.conftest import Client, UserFactory
from tests.funding.conftest import base, record, rows

YUAN = 100


async def test_an_organiser_reads_the_coverage_records_a_receipt_and_reverses_a_record(
    client: Client,
    db: Database,
    prize_list: dict[str, Any],
    make_user: UserFactory,
    live_server: LiveServer,
    page: Page,
) -> None:
    festival = prize_list
    organiser = await make_user(Role.ORGANISER)
    headers = {"Authorization": organiser["Authorization"]}
    await record(client, festival, headers, amount=800_000 * YUAN)
    sponsor = (
        await client.post(
            f"{base(festival)}/sponsors",
            headers=headers,
            json={
                "name_zh": "当雄县卡巴藏式酒店",
                "name_en": "Kaba Tibetan Hotel",
                "tier": "community",
                "pledged_fen": 100_000 * YUAN,
            },
        )
    ).json()

    await page.goto(f"{live_server.url}/festivals/{festival['id']}/funding")
    await sign_in(page, organiser["username"])

    await expect(page.get_by_test_id("funding")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("balance")).to_have_text("¥800,000")
    await expect(page.get_by_test_id("committed")).to_have_text("¥1,252,000")
    warning = page.get_by_test_id("warning")
    await expect(warning).to_have_attribute("data-code", "commitments_exceed_funds")
    await expect(warning).to_contain_text("缺口 ¥352,000")  # 1,252,000 - 800,000 - 100,000
    by_source = page.locator('[data-testid="chart-by-source"] g[data-key="self_raised"]')
    await expect(by_source).to_have_attribute("data-fen", str(800_000 * YUAN))
    await expect(
        page.locator('[data-testid="chart-coverage"] g[data-key="shortfall"]')
    ).to_have_attribute("data-fen", str(352_000 * YUAN))

    # A refusal: nothing is stored, the reason is shown.
    await page.get_by_test_id("r-source").select_option("sponsorship")
    await page.get_by_test_id("r-amount").fill("100000.5")
    await page.get_by_test_id("record-submit").click()
    await expect(page.get_by_test_id("record-error")).to_contain_text("sponsor_id")
    assert len(await rows(db)) == 1

    # The sponsor's money arrives.
    await page.get_by_test_id("r-sponsor").select_option(sponsor["id"])
    await page.get_by_test_id("r-reference").fill("HOTEL-2027-1")
    await page.get_by_test_id("record-submit").click()
    await expect(page.get_by_test_id("record-ok")).to_have_text("已登记。")
    await expect(page.get_by_test_id("balance")).to_have_text("¥900,000.50")
    await expect(page.get_by_test_id("record")).to_have_count(2)
    hotel = page.locator(f'[data-testid="by-sponsor"] tr[data-sponsor="{sponsor["id"]}"]')
    await expect(hotel).to_contain_text("¥100,000.50")
    [stored] = [r for r in await rows(db) if r.sponsor_id is not None]
    assert (stored.amount, stored.reference, stored.source) == (
        100_000 * YUAN + 50,
        "HOTEL-2027-1",
        "sponsorship",
    )

    # The self-raised record was typed wrong: reverse it.
    wrong = page.locator('[data-testid="record"][data-source="self_raised"]')
    page.once("dialog", lambda dialog: dialog.accept("录入错误 typed twice"))
    await wrong.get_by_test_id("reverse").click()
    await expect(page.get_by_test_id("ledger-message")).to_have_text("已冲正。")
    await expect(page.get_by_test_id("record")).to_have_count(3)
    await expect(page.get_by_test_id("balance")).to_have_text("¥100,000.50")
    await expect(page.locator('[data-testid="record"].reversed')).to_have_count(1)
    stored_rows = await rows(db)
    assert len(stored_rows) == 3
    assert sum(r.amount if r.direction == "in" else -r.amount for r in stored_rows) == (
        100_000 * YUAN + 50
    )

    # Filters.
    await page.get_by_test_id("f-source").select_option("sponsorship")
    await expect(page.get_by_test_id("ledger-count")).to_have_text("显示 1 / 1 条")
    await expect(page.get_by_test_id("record-amount")).to_have_text("¥100,000.50")
    await page.get_by_test_id("f-source").select_option("")
    await page.get_by_test_id("f-direction").select_option("out")
    await expect(page.get_by_test_id("ledger-count")).to_have_text("显示 1 / 1 条")
    await expect(page.get_by_test_id("record-amount")).to_have_text("-¥800,000")

    # The sponsor's statement, and its PDF.
    await page.get_by_test_id("statement-link").click()
    await expect(page.get_by_test_id("statement")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("s-name")).to_have_text("当雄县卡巴藏式酒店")
    await expect(page.get_by_test_id("s-received")).to_have_text("¥100,000.50")
    await expect(page.get_by_test_id("s-outstanding")).to_have_text("¥0")
    async with page.expect_download() as download:
        await page.get_by_test_id("pdf-en").click()
    path = await (await download.value).path()
    assert path.read_bytes().startswith(b"%PDF-")


async def test_the_page_in_english_and_for_an_unknown_festival(
    client: Client,
    festival: dict[str, Any],
    make_user: UserFactory,
    live_server: LiveServer,
    page: Page,
) -> None:
    organiser = await make_user(Role.ORGANISER)
    await page.goto(f"{live_server.url}/festivals/{festival['id']}/funding?lang=en")
    await sign_in(page, organiser["username"])
    await expect(page.get_by_test_id("funding")).to_have_attribute("data-state", "ready")
    await expect(page.get_by_test_id("warnings")).to_have_text(
        re.compile("The prize money committed is covered")
    )
    await expect(page.get_by_test_id("no-records")).to_have_text("No records match.")

    response = await page.goto(f"{live_server.url}/festivals/{uuid.uuid4()}/funding")
    assert response is not None
    assert response.status == 404
