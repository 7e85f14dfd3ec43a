"""A delegation's spreadsheet: all rows or none, every bad row named, nothing duplicated."""

import csv
import io
from typing import Any

from openpyxl import Workbook

from events.db.engine import Database
from events.registration.models import Entry, EntryEvent, Horse, Owner, Race, Rider
from tests.conftest import Client
from tests.registration.conftest import RaceFactory, count_rows, rows

ZH_HEADER = [
    "马主姓名",
    "手机号",
    "省份",
    "县",
    "乡镇",
    "马名",
    "性别",
    "出生年份",
    "毛色",
    "肩高",
    "芯片号",
    "骑手姓名",
    "骑手出生日期",
    "监护人同意",
    "比赛",
    "备注",
]
EN_HEADER = [
    "owner_name",
    "owner_mobile",
    "province",
    "county",
    "township",
    "horse_name",
    "sex",
    "birth_year",
    "colour",
    "height_cm",
    "microchip",
    "rider_name",
    "rider_birth_date",
    "guardian_consent",
    "race",
]


def zh_row(i: int, race: str, **changes: Any) -> list[Any]:
    """Row ``i`` of a delegation from Sichuan: owner i // 2 has two horses."""
    row = {
        "马主姓名": f"马主{i // 2}",
        "手机号": f"1390000{i // 2:04d}",
        "省份": "四川",
        "县": "理塘县",
        "乡镇": "甲洼镇",
        "马名": f"理塘{i}",
        "性别": "公马",
        "出生年份": 2018,
        "毛色": "青",
        "肩高": "1.35米",
        "芯片号": f"15600000000{i:04d}",
        "骑手姓名": f"骑手{i}",
        "骑手出生日期": "1998/5/1",
        "监护人同意": "",
        "比赛": race,
        "备注": "",
    }
    row.update(changes)
    return [row[h] for h in ZH_HEADER]


def to_csv(header: list[str], lines: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue().encode(encoding)


def to_xlsx(header: list[str], lines: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for line in lines:
        sheet.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_url(festival: dict[str, Any], dry_run: bool = False) -> str:
    suffix = "?dry_run=true" if dry_run else ""
    return f"/api/v1/festivals/{festival['id']}/entries/import{suffix}"


async def test_a_chinese_csv_imports_owners_horses_riders_and_entries(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    long_race = await make_race(code="long", name_zh="马长跑", field_size=20)
    await make_race(code="mid", name_zh="马中跑", field_size=20)
    lines = [zh_row(i, "马长跑" if i % 2 else "mid") for i in range(8)]

    response = await client.post(
        import_url(festival),
        content=to_csv(ZH_HEADER, lines),
        headers={**organiser, "Content-Type": "text/csv"},
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["stored"] is True
    assert report["created"] == {"owners": 4, "horses": 8, "riders": 8, "entries": 8}
    assert report["errors"] == []
    horses = await rows(db, Horse)
    assert {h.height_cm for h in horses} == {135}
    assert {h.origin_province for h in horses} == {"SC"}
    entries = await rows(db, Entry)
    assert {(e.status, e.source, e.fee_due) for e in entries} == {
        ("pending_payment", "import", 30000)
    }
    assert await count_rows(db, EntryEvent) == 8
    races = {r.code: r.entered for r in await rows(db, Race)}
    assert races == {"long": 4, "mid": 4}
    listed = await client.get(
        f"/api/v1/festivals/{festival['id']}/entries?province=四川&race_id={long_race['id']}",
        headers=organiser,
    )
    assert listed.json()["total"] == 4


async def test_one_bad_row_stores_nothing_and_names_the_row(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    await make_race(code="long", field_size=20)
    lines = [zh_row(i, "long") for i in range(6)]
    lines[3] = zh_row(3, "long", 手机号="12345", 肩高=0)  # spreadsheet row 5

    response = await client.post(
        import_url(festival), content=to_csv(ZH_HEADER, lines), headers=organiser
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "import_invalid"
    assert {(e["row"], e["field"]) for e in problem["errors"]} == {
        (5, "owner_mobile"),
        (5, "height_cm"),
    }
    assert "row" in problem["detail"]
    for model in (Owner, Horse, Rider, Entry, EntryEvent):
        assert await count_rows(db, model) == 0
    assert (await rows(db, Race))[0].entered == 0


async def test_ineligible_and_unknown_races_and_conflicting_owners_are_reported_per_row(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    await make_race(code="local", local_provinces=["XZ"], field_size=20, name_zh="走马")
    await make_race(code="open", field_size=20, name_zh="走马")
    lines = [
        zh_row(0, "local"),
        zh_row(2, "nowhere"),
        zh_row(4, "open"),
        zh_row(5, "open", 马主姓名="别人"),
        zh_row(6, "open", 芯片号="156000000000004"),
        zh_row(8, "走马"),
    ]

    report = (
        await client.post(
            import_url(festival, dry_run=True), headers=organiser, content=to_csv(ZH_HEADER, lines)
        )
    ).json()

    assert report["stored"] is False
    by_row = {(e["row"], e["field"]): e["message"] for e in report["errors"]}
    assert "not_local_horse" in by_row[(2, "race")]
    assert "No race 'nowhere'" in by_row[(3, "race")]
    assert "row 4" in by_row[(5, "owner_mobile")]
    assert "another horse in row 4" in by_row[(6, "microchip")]
    assert "give the race code" in by_row[(7, "race")]
    assert await count_rows(db, Owner) == 0


async def test_a_dry_run_reports_and_stores_nothing(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    await make_race(code="long", field_size=3)
    lines = [zh_row(i, "long") for i in range(5)]
    response = await client.post(
        import_url(festival, dry_run=True), headers=organiser, content=to_csv(ZH_HEADER, lines)
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["dry_run"], report["stored"], report["waiting"]) == (True, False, 2)
    assert report["created"]["entries"] == 5
    assert await count_rows(db, Entry) == 0


async def test_an_xlsx_with_english_headers_fills_the_race_then_its_waiting_list(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    await make_race(code="short", field_size=3)
    lines = [
        [
            f"Owner {i}",
            f"+86 1370000{i:04d}",
            "Gansu",
            "Maqu",
            "",
            f"Horse {i}",
            "mare",
            2017,
            "bay",
            132,
            156100000000000 + i,
            f"Rider {i}",
            "2012-02-02",
            "yes",
            "short",
        ]
        for i in range(5)
    ]

    response = await client.post(
        import_url(festival), headers=organiser, content=to_xlsx(EN_HEADER, lines)
    )

    assert response.status_code == 200, response.text
    assert response.json()["waiting"] == 2
    entries = await rows(db, Entry)
    assert sorted((e.status, e.waitlist_position or 0) for e in entries) == [
        ("pending_payment", 0)
    ] * 3 + [("waiting", 1), ("waiting", 2)]
    race = (await rows(db, Race))[0]
    assert (race.entered, race.waitlist_seq) == (3, 2)
    assert {h.microchip for h in await rows(db, Horse)} == {
        f"{156100000000000 + i}" for i in range(5)
    }
    assert {r.guardian_consent for r in await rows(db, Rider)} == {True}


async def test_a_second_import_matches_owners_horses_and_riders(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    await make_race(code="long", field_size=20)
    await make_race(code="mid", field_size=20)
    first = [zh_row(i, "long") for i in range(4)]
    # The same horses again: by microchip, and by owner + name + birth year without one.
    second = [zh_row(i, "mid", **({"芯片号": ""} if i % 2 else {})) for i in range(4)]
    assert (
        await client.post(import_url(festival), headers=organiser, content=to_csv(ZH_HEADER, first))
    ).status_code == 200

    response = await client.post(
        import_url(festival), headers=organiser, content=to_csv(ZH_HEADER, second)
    )

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == {"owners": 0, "horses": 0, "riders": 0, "entries": 4}
    assert report["matched"] == {"owners": 2, "horses": 4, "riders": 4, "entries": 0}
    assert (await count_rows(db, Owner), await count_rows(db, Horse)) == (2, 4)
    again = await client.post(
        import_url(festival), headers=organiser, content=to_csv(ZH_HEADER, first)
    )
    assert again.status_code == 422
    assert {
        e["row"] for e in again.json()["errors"] if "horse_already_entered" in e["message"]
    } == {2, 3, 4, 5}


async def test_header_problems_and_unreadable_files_are_refused(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    missing = await client.post(
        import_url(festival), headers=organiser, content=to_csv(["马主姓名", "颜色?"], [["a", "b"]])
    )
    assert missing.status_code == 422
    fields = {e["field"] for e in missing.json()["errors"]}
    assert {"颜色?", "owner_mobile", "race"} <= fields
    assert {e["row"] for e in missing.json()["errors"]} == {1}
    gbk = await client.post(
        import_url(festival),
        headers=organiser,
        content=to_csv(ZH_HEADER, [zh_row(0, "x")], encoding="gb18030"),
    )
    assert gbk.status_code == 422
    assert [e["field"] for e in gbk.json()["errors"]] == ["race"]  # read fine; no such race
    empty = await client.post(import_url(festival), headers=organiser, content=b"")
    assert empty.status_code == 422
    assert (await client.post(import_url(festival), content=b"x")).status_code == 401
