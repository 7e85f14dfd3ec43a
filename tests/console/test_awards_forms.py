"""Console award forms over HTTP: stale edits refused, XLSX dry runs, field problems."""

import io
from typing import Any

import openpyxl
from sqlmodel import select

from events.access.models import Role
from events.awards.models import AwardCategory
from events.db.engine import Database
from tests.awards.conftest import LONG_RACE, base, stored_counts
from tests.conftest import Client
from tests.console.conftest import StaffFactory, console_sign_in, csrf_of


async def test_a_stale_category_form_is_refused_and_overwrites_nothing(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    created = await client.post(
        f"{base(festival)}/award-categories", json=LONG_RACE, headers=organiser
    )
    category = created.json()
    url = f"/console/festivals/{festival['id']}/awards/categories/{category['id']}"
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(url)
    token = csrf_of(page.text)
    version = page.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    # someone else renames it meanwhile, through the API
    other = await client.patch(
        f"{base(festival)}/award-categories/{category['id']}",
        json={"name_en": "Renamed elsewhere"},
        headers=organiser,
    )
    assert other.status_code == 200
    form = {
        "_csrf_token": token,
        "version": version,
        "code": "long-10k",
        "name_zh": "马长跑",
        "name_en": "Mine",
        "ranked_by": "finish_order",
    }
    response = await client.post(url, data=form)
    assert response.status_code == 409
    assert 'data-code="stale_form"' in response.text
    assert 'value="Mine"' in response.text  # what was typed is kept
    async with db.session_factory() as session:
        stored = (await session.exec(select(AwardCategory))).one()
    assert stored.name_en == "Renamed elsewhere"

    fresh = await client.get(url)
    version = fresh.text.split('name="version" value="', 1)[1].split('"', 1)[0]
    saved = await client.post(url, data={**form, "version": version})
    assert saved.status_code == 303
    async with db.session_factory() as session:
        assert (await session.exec(select(AwardCategory))).one().name_en == "Mine"


async def test_an_award_form_names_the_bad_field_and_stores_nothing(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    make_staff: StaffFactory,
    db: Database,
) -> None:
    category = (
        await client.post(f"{base(festival)}/award-categories", json=LONG_RACE, headers=organiser)
    ).json()
    url = f"/console/festivals/{festival['id']}/awards/categories/{category['id']}"
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    response = await client.post(
        f"{url}/awards",
        data={"_csrf_token": token, "place": "1", "prize_yuan": "12.5", "name_zh": "冠军"},
    )
    assert response.status_code == 422
    assert 'data-testid="error-prize_yuan"' in response.text
    assert 'value="冠军"' in response.text
    assert await stored_counts(db) == (1, 0, 0)


def workbook(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_ROWS: list[list[Any]] = [
    ["类别代码", "类别名称", "类别英文名称", "排名方式", "名次", "奖金(元)"],
    ["yak", "赛牦牛", "Yak race", "名次", 1, 10000],
    ["yak", "赛牦牛", "Yak race", "名次", 2, "abc"],
]


async def test_an_xlsx_prize_list_is_checked_row_by_row(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory, db: Database
) -> None:
    token = await console_sign_in(client, await make_staff(Role.ORGANISER))
    url = f"/console/festivals/{festival['id']}/awards/import"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    bad = await client.post(
        url, data={"_csrf_token": token}, files={"file": ("prizes.xlsx", workbook(XLSX_ROWS), xlsx)}
    )
    assert bad.status_code == 422
    assert 'data-line="3" class="bad" data-bad="true"' in bad.text
    assert await stored_counts(db) == (0, 0, 0)

    XLSX_ROWS[2][5] = 8000
    good = await client.post(
        url, data={"_csrf_token": token}, files={"file": ("prizes.xlsx", workbook(XLSX_ROWS), xlsx)}
    )
    assert good.status_code == 200
    assert 'data-testid="import-ok"' in good.text
    assert await stored_counts(db) == (0, 0, 0)
    content = good.text.split('name="content" value="', 1)[1].split('"', 1)[0]
    saved = await client.post(
        url,
        data={"_csrf_token": token, "confirm": "1", "content": content},
        files={"none": ("", b"")},
    )
    assert saved.status_code == 303
    assert await stored_counts(db) == (1, 2, 0)


async def test_the_api_imports_xlsx_too(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    rows = [list(r) for r in XLSX_ROWS]
    rows[2][5] = 8000
    response = await client.post(
        f"{base(festival)}/awards/import",
        headers={
            **organiser,
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
        content=workbook(rows),
    )
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "xlsx"
    assert await stored_counts(db) == (1, 2, 0)


async def test_the_demo_prize_list_summary(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory, db: Database
) -> None:
    from tests.awards.test_demo import run_demo_step

    await run_demo_step(db, festival)
    await console_sign_in(client, await make_staff(Role.ORGANISER))
    page = await client.get(f"/console/festivals/{festival['id']}/awards?lang=en")
    assert page.status_code == 200
    assert 'data-testid="summary-categories">10<' in page.text
    assert 'data-testid="summary-awards">131<' in page.text
    assert 'data-testid="summary-total">¥1,252,000<' in page.text
    assert page.text.count('data-testid="category-row"') == 10
