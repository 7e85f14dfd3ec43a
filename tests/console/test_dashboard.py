"""The festival dashboard: today's tickets, money, prize money and entries, each read
through its own domain."""

from typing import Any

from events.access.models import Role
from events.db.engine import Database
from tests.awards.test_demo import run_demo_step
from tests.conftest import Client
from tests.console.conftest import StaffFactory, console_sign_in
from tests.ticketing.conftest import Catalog, buy, catalog, pay  # noqa: F401 (fixture)


async def test_the_dashboard_shows_todays_sales_money_and_prize_money(
    client: Client,
    festival: dict[str, Any],
    catalog: Catalog,  # noqa: F811
    make_staff: StaffFactory,
    db: Database,
) -> None:
    await pay(client, await buy(client, catalog, [(catalog.day1, 2)]))
    await run_demo_step(db, festival)
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(f"/console/festivals/{festival['id']}?lang=en")
    assert page.status_code == 200
    assert 'data-testid="tickets-sold">2<' in page.text
    assert 'data-testid="money-received">¥160<' in page.text
    assert 'data-testid="money-refunded">¥0<' in page.text
    assert 'data-testid="prize-committed">¥1,252,000<' in page.text
    assert 'data-testid="prize-owed">¥0<' in page.text
    assert 'data-status="confirmed"><span class="value">0<' in page.text
    assert f'href="/console/festivals/{festival["id"]}/awards"' in page.text


async def test_officials_land_on_the_results_page(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory
) -> None:
    await console_sign_in(client, await make_staff(Role.OFFICIAL))
    response = await client.get(f"/console?festival={festival['id']}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/festivals/{festival['id']}/officials"
    assert (await client.get(f"/console/festivals/{festival['id']}")).status_code == 403
