"""The summary: counts, totals in fen, extremes and flags."""

from typing import Any

from tests.awards.conftest import add_places, base
from tests.conftest import Client


async def test_an_empty_festival_has_an_empty_summary(
    client: Client, festival: dict[str, Any]
) -> None:
    response = await client.get(f"{base(festival)}/awards/summary")
    assert response.status_code == 200
    summary = response.json()
    assert (summary["categories"], summary["awards"], summary["total_prize"]) == (0, 0, 0)
    assert (summary["min_prize"], summary["max_prize"]) == (None, None)
    assert (summary["amounts_unit"], summary["status"]) == ("fen", "draft")


async def test_the_summary_of_an_unknown_festival_is_404(client: Client) -> None:
    response = await client.get("/api/v1/festivals/nope/awards/summary")
    assert response.status_code == 404


async def test_a_lucky_thirteenth_table_is_allowed_and_flagged_non_monotonic(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    table = [1000_00, 600_00, 300_00, *[100_00] * 9, 1000_00]
    await add_places(client, festival, category, organiser, table)
    summary = (await client.get(f"{base(festival)}/awards/summary")).json()
    [subtotal] = summary["by_category"]
    assert (subtotal["monotonic"], subtotal["flags"]) == (False, ["non_monotonic"])
    assert [f["code"] for f in summary["flags"]] == ["non_monotonic"]
    assert "13" in summary["flags"][0]["detail"]
    assert summary["total_prize"] == sum(table)


async def test_a_category_without_awards_is_flagged(
    client: Client, festival: dict[str, Any], category: dict[str, Any]
) -> None:
    summary = (await client.get(f"{base(festival)}/awards/summary")).json()
    assert summary["by_category"][0]["flags"] == ["empty_category"]


async def test_a_prize_in_kind_counts_in_the_total_and_is_shown_apart(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={
            "category_id": category["id"],
            "place": 1,
            "in_kind_zh": "马鞍",
            "in_kind_value_fen": 5_000_00,
        },
    )
    await add_places(client, festival, category, organiser, [])
    await client.post(
        f"{base(festival)}/awards",
        headers=organiser,
        json={"category_id": category["id"], "place": 2, "prize_fen": 2_000_00},
    )
    summary = (await client.get(f"{base(festival)}/awards/summary")).json()
    assert (
        summary["total_prize"],
        summary["total_cash_fen"],
        summary["total_in_kind_value_fen"],
    ) == (7_000_00, 2_000_00, 5_000_00)
    assert (summary["min_prize"], summary["max_prize"]) == (2_000_00, 5_000_00)


async def test_withholding_is_off_by_default_and_reported_when_on(
    client: Client, festival: dict[str, Any], organiser: dict[str, str], category: dict[str, Any]
) -> None:
    await add_places(client, festival, category, organiser, [80_000_00, 10_000_00, 9_999_00])
    off = (await client.get(f"{base(festival)}/awards/summary")).json()["withholding"]
    assert (off["enabled"], off["withheld_if_paid_as_listed_fen"]) == (False, 0)
    response = await client.patch(
        f"{base(festival)}/awards/settings", headers=organiser, json={"withholding_enabled": True}
    )
    assert response.status_code == 200, response.text
    on = (await client.get(f"{base(festival)}/awards/summary")).json()["withholding"]
    assert on["withheld_if_paid_as_listed_fen"] == 16_000_00 + 2_000_00
