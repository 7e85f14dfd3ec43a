"""The awards flow on SQLite (aiosqlite), the zero-setup default of `make run`."""

from tests.awards.test_import import CSV_EN
from tests.conftest import Client


async def test_import_summary_lock_and_export_on_sqlite(
    sqlite_client: Client, sqlite_organiser: dict[str, str]
) -> None:
    headers = sqlite_organiser
    festival = (
        await sqlite_client.post(
            "/api/v1/festivals",
            headers=headers,
            json={"slug": "lite", "name_zh": "测试", "name_en": "Lite"},
        )
    ).json()
    url = f"/api/v1/festivals/{festival['id']}/awards"

    imported = await sqlite_client.post(
        f"{url}/import", content=CSV_EN.encode(), headers={**headers, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 200, imported.text
    summary = (await sqlite_client.get(f"{url}/summary")).json()
    assert (summary["categories"], summary["awards"], summary["total_prize"]) == (2, 5, 176_000_00)

    assert (await sqlite_client.post(f"{url}/lock", headers=headers)).status_code == 200
    refused = await sqlite_client.post(
        f"{url}/import", content=CSV_EN.encode(), headers={**headers, "Content-Type": "text/csv"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "prize_list_locked"
    export = await sqlite_client.get(f"{url}/export.csv")
    assert export.status_code == 200
    assert export.text.count("\n") == 6
