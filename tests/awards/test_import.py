"""Importing a whole prize list: all or nothing, every bad row named; exports read back."""

import asyncio
import io
import json
from typing import Any

import openpyxl
from sqlmodel import col, select

from events.awards.models import Award, AwardCategory
from events.db.engine import Database
from tests.awards.conftest import LONG_RACE, base, stored_counts
from tests.conftest import Client

CSV_EN = (
    (
        "category,category_name_zh,category_name_en,ranked_by,place,award_name_zh,"
        "award_name_en,prize_yuan,payee_split_yuan\n"
    )
    + """\
long-10k,马长跑 10公里,Long race 10 km,finish_order,1,,,"80,000",rider:10000
long-10k,马长跑 10公里,Long race 10 km,finish_order,2,,,50000,
long-10k,马长跑 10公里,Long race 10 km,finish_order,3,,,40000,
special,特别奖,Special awards,judges_score,,最佳装扮马匹奖,Best turned-out horse,3000,
special,特别奖,Special awards,judges_score,,最佳装扮马匹奖,Best turned-out horse,3000,
"""
)

CSV_ZH = """类别代码,类别名称,类别英文名称,排名方式,名次,奖金(元)
yak,赛牦牛,Yak race,名次,1,10000
yak,赛牦牛,Yak race,名次,2,8000
khata,马上拾哈达,Picking up khata,数量,1,20000
"""

BAD_CSV = """category,place,award_name_zh,prize_yuan
long-10k,1,,80000
long-10k,1,,50000
long-10k,2,,-3000
long-10k,3,,2500.5
nope,1,,1000
long-10k,4,{long_name},1000
""".format(long_name="长" * 201)


def csv_headers(organiser: dict[str, str]) -> dict[str, str]:
    return {**organiser, "Content-Type": "text/csv"}


async def import_csv(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    body: str | bytes,
    **params: str,
) -> Any:
    return await client.post(
        f"{base(festival)}/awards/import",
        params=params,
        content=body.encode() if isinstance(body, str) else body,
        headers=csv_headers(organiser),
    )


async def test_a_csv_with_english_headers_creates_categories_and_awards(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await import_csv(client, festival, organiser, CSV_EN)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["stored"], report["awards_created"], report["categories_created"]) == (
        True,
        5,
        ["long-10k", "special"],
    )
    assert report["summary"]["total_prize"] == (80_000 + 50_000 + 40_000 + 6_000) * 100
    assert await stored_counts(db) == (2, 5, 1)
    async with db.session_factory() as session:
        places = (
            await session.exec(
                select(Award.place, Award.prize_fen)
                .where(col(Award.place).is_not(None))
                .order_by(col(Award.place))
            )
        ).all()
    assert list(places) == [(1, 8_000_000), (2, 5_000_000), (3, 4_000_000)]


async def test_a_csv_with_chinese_headers_and_ranking_names_is_read(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await import_csv(client, festival, organiser, CSV_ZH)
    assert response.status_code == 200, response.text
    async with db.session_factory() as session:
        categories = {
            c.code: c.ranked_by for c in (await session.exec(select(AwardCategory))).all()
        }
    assert categories == {"yak": "finish_order", "khata": "count"}


async def test_a_gb18030_excel_csv_is_read(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await import_csv(client, festival, organiser, CSV_ZH.encode("gb18030"))
    assert response.status_code == 200, response.text
    assert await stored_counts(db) == (2, 3, 0)


async def test_a_malformed_csv_stores_nothing_and_names_every_bad_row(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    response = await import_csv(client, festival, organiser, BAD_CSV)
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "import_rejected"
    assert problem["stored"] is False
    assert problem["bad_rows"] == [3, 4, 5, 6, 7]
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {
        "lines.3.place",
        "lines.4.prize_yuan",
        "lines.5.prize_yuan",
        "lines.6.category",
        "lines.7.award_name_zh",
    }
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert "line 2" in messages["lines.3.place"]
    assert "negative" in messages["lines.4.prize_yuan"]
    assert "whole number" in messages["lines.5.prize_yuan"]
    assert "Unknown category 'nope'" in messages["lines.6.category"]
    assert await stored_counts(db) == (1, 0, 0)  # only the category made by the fixture


async def test_a_gap_in_the_places_is_refused(
    client: Client,
    festival: dict[str, Any],
    organiser: dict[str, str],
    category: dict[str, Any],
    db: Database,
) -> None:
    body = "category,place,prize_yuan\nlong-10k,1,80000\nlong-10k,2,50000\nlong-10k,5,1000\n"
    response = await import_csv(client, festival, organiser, body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "lines.4.place"
    assert "places 3-4 are missing" in error["message"]
    assert await stored_counts(db) == (1, 0, 0)


async def test_an_unknown_column_is_refused_on_line_1(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    response = await import_csv(
        client, festival, organiser, "category,place,prize_yaun\nlong-10k,1,80000\n"
    )
    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert "lines.1.prize_yaun" in fields


async def test_a_dry_run_reports_and_stores_nothing(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    response = await import_csv(client, festival, organiser, CSV_EN, dry_run="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["dry_run"], report["stored"], report["awards_created"]) == (True, False, 5)
    assert report["summary"]["awards"] == 5
    assert report["summary"]["categories"] == 2
    assert await stored_counts(db) == (0, 0, 0)


async def test_a_dry_run_of_a_bad_file_is_refused_like_the_real_import(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    response = await import_csv(client, festival, organiser, BAD_CSV, dry_run="true")
    assert response.status_code == 422
    assert response.json()["code"] == "import_rejected"


async def test_importing_again_replaces_the_awards_of_the_categories_in_the_file(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    await import_csv(client, festival, organiser, CSV_EN)
    again = "category,place,prize_yuan\nlong-10k,1,100000\nlong-10k,2,60000\n"
    response = await import_csv(client, festival, organiser, again)
    assert response.status_code == 200, response.text
    assert response.json()["awards_replaced"] == 3
    assert await stored_counts(db) == (2, 4, 0)  # 2 new long-race places + 2 special awards


async def test_a_json_prize_list_is_imported_in_fen(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    body = {
        "categories": [LONG_RACE],
        "awards": [
            {"category": "long-10k", "place": 1, "prize_fen": 80_000_00},
            {
                "category": "long-10k",
                "place": 2,
                "prize_fen": 50_000_00,
                "in_kind_zh": "马鞍",
                "in_kind_value_fen": 2_000_00,
            },
        ],
    }
    response = await client.post(f"{base(festival)}/awards/import", json=body, headers=organiser)
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "json"
    assert response.json()["summary"]["total_prize"] == 132_000_00
    assert await stored_counts(db) == (1, 2, 0)


async def test_a_bad_json_prize_list_names_each_award_and_stores_nothing(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    body = {
        "categories": [LONG_RACE],
        "awards": [
            {"category": "long-10k", "place": 1, "prize_fen": 80_000_00},
            {"category": "long-10k", "place": 1, "prize_fen": 50_000_00},
            {"category": "long-10k", "place": 2, "prize_fen": 12.5},
            {"category": "ghost", "place": 1, "prize_fen": 100},
        ],
    }
    response = await client.post(
        f"{base(festival)}/awards/import", content=json.dumps(body), headers=organiser
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"awards.1.place", "awards.2.prize_fen", "awards.3.category"}
    assert await stored_counts(db) == (0, 0, 0)


async def test_the_csv_export_reads_back_into_the_same_prize_list(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    await import_csv(client, festival, organiser, CSV_EN)
    before = (await client.get(f"{base(festival)}/awards/summary")).json()
    export = await client.get(f"{base(festival)}/awards/export.csv", params={"lang": "zh"})
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    assert export.content.startswith("\ufeff类别代码".encode())
    other = await client.post(
        "/api/v1/festivals",
        headers=organiser,
        json={"slug": "copy", "name_zh": "副本", "name_en": "Copy"},
    )
    response = await import_csv(client, other.json(), organiser, export.content)
    assert response.status_code == 200, response.text
    after = response.json()["summary"]
    for key in ("categories", "awards", "total_prize", "min_prize", "max_prize"):
        assert after[key] == before[key]
    assert [c["code"] for c in after["by_category"]] == ["long-10k", "special"]
    assert await stored_counts(db) == (4, 10, 2)


async def test_the_xlsx_export_has_the_awards_and_a_summary_sheet(
    client: Client, festival: dict[str, Any], organiser: dict[str, str]
) -> None:
    await import_csv(client, festival, organiser, CSV_EN)
    export = await client.get(f"{base(festival)}/awards/export.xlsx")
    assert export.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(export.content))
    assert book.sheetnames == ["Awards", "Summary"]
    rows = list(book["Awards"].iter_rows(values_only=True))
    assert rows[0][0] == "category"
    assert len(rows) == 6
    assert rows[1][10] == 80_000  # prize_yuan of the long race winner
    totals = list(book["Summary"].iter_rows(values_only=True))[-1]
    assert (totals[0], totals[3], totals[4]) == ("total", 5, 176_000)


async def test_only_organisers_import(
    client: Client, festival: dict[str, Any], db: Database
) -> None:
    response = await client.post(
        f"{base(festival)}/awards/import",
        content=CSV_EN.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 401
    assert await stored_counts(db) == (0, 0, 0)


async def test_two_imports_of_the_same_file_at_once_both_succeed_one_after_the_other(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], db: Database
) -> None:
    first, second = await asyncio.gather(
        import_csv(client, festival, organiser, CSV_EN),
        import_csv(client, festival, organiser, CSV_EN),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    assert sorted([first.json()["awards_replaced"], second.json()["awards_replaced"]]) == [0, 5]
    assert await stored_counts(db) == (2, 5, 1)
