"""Organisers' lists, the public summary and the CSV / XLSX exports."""

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.conftest import Client
from tests.registration.conftest import RaceFactory
from tests.registration.test_import import ZH_HEADER, import_url, to_csv, zh_row


async def _import(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], make_race: RaceFactory
) -> dict[str, Any]:
    race = await make_race(code="long", field_size=3)
    await make_race(code="mid", field_size=10)
    lines = [zh_row(i, "long") for i in range(4)]
    lines += [
        zh_row(10 + i, "mid", 省份="Gansu", 县="玛曲县", 手机号=f"1380000{i:04d}") for i in range(2)
    ]
    lines.append(zh_row(20, "mid", 马主姓名='=HYPERLINK("http://x")', 手机号="13600000000"))
    response = await client.post(
        import_url(festival), headers=organiser, content=to_csv(ZH_HEADER, lines)
    )
    assert response.status_code == 200, response.text
    return race


async def test_entries_are_listed_with_filters_and_pages(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], make_race: RaceFactory
) -> None:
    race = await _import(client, festival, organiser, make_race)
    url = f"/api/v1/festivals/{festival['id']}/entries"

    everything = (await client.get(url, headers=organiser)).json()
    gansu = (await client.get(url + "?province=甘肃", headers=organiser)).json()
    waiting = (await client.get(url + "?status=waiting", headers=organiser)).json()
    long_page = (
        await client.get(url + f"?race_id={race['id']}&limit=2&offset=2", headers=organiser)
    ).json()

    assert everything["total"] == 7
    assert {e["province_zh"] for e in gansu["items"]} == {"甘肃"}
    assert gansu["total"] == 2
    assert [(e["race_code"], e["waitlist_position"]) for e in waiting["items"]] == [("long", 1)]
    assert (long_page["total"], len(long_page["items"]), long_page["offset"]) == (4, 2, 2)
    assert (await client.get(url)).status_code == 401
    bad = await client.get(url + "?province=Atlantis", headers=organiser)
    assert bad.status_code == 422


async def test_the_summary_counts_by_province_status_and_race(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], make_race: RaceFactory
) -> None:
    await _import(client, festival, organiser, make_race)
    summary = (await client.get(f"/api/v1/festivals/{festival['id']}/entries/summary")).json()
    assert summary == {
        "entries": 7,
        "horses": 7,
        "provinces": 2,
        "by_province": {"四川": 5, "甘肃": 2},
        "by_status": {"pending_payment": 6, "waiting": 1},
        "by_race": {"long": 4, "mid": 3},
    }


async def test_entries_export_as_csv_and_xlsx(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], make_race: RaceFactory
) -> None:
    await _import(client, festival, organiser, make_race)
    base = f"/api/v1/festivals/{festival['id']}/entries/export"

    as_csv = await client.get(base + ".csv", headers=organiser)
    as_xlsx = await client.get(base + ".xlsx?province=Gansu", headers=organiser)

    assert as_csv.status_code == 200
    assert as_csv.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["报名编号 entry_id", "比赛代码 race_code", "比赛 race"]
    assert len(lines) == 8
    assert '\'=HYPERLINK("http://x")' in [line[7] for line in lines]  # never a formula
    assert "attachment" in as_csv.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert sheet.max_row == 3
    assert (await client.get(base + ".csv")).status_code == 401
