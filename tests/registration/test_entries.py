"""Entering races: eligibility, windows, fees, payment, waiting list, withdrawals, refunds."""

import asyncio
import datetime as dt
import uuid
from typing import Any

from sqlalchemy import update

from events.db.base import utcnow
from events.db.engine import Database
from events.payments.models import Payment, PaymentRefund
from events.registration.models import Entry, EntryEvent, EntryRequest, Race
from tests.conftest import Client, pay_path
from tests.registration.conftest import (
    HorseFactory,
    OwnerAccount,
    OwnerFactory,
    RaceFactory,
    complete_payment,
    count_rows,
    entries_url,
    iso,
    rows,
    stable,
)


async def enter(
    client: Client,
    festival: dict[str, Any],
    account: OwnerAccount,
    race: dict[str, Any],
    horse: dict[str, Any],
    rider_id: str | None = None,
    **headers: str,
) -> Any:
    return await client.post(
        entries_url(festival),
        headers={**account.headers, **headers},
        json={
            "race_id": race["id"],
            "horse_id": horse["id"],
            "rider_id": rider_id or account.rider_id,
        },
    )


async def entry_row(db: Database, entry_id: str) -> Entry:
    [entry] = await rows(db, Entry, Entry.id == uuid.UUID(entry_id))
    return entry


async def test_entering_holds_a_place_computes_the_fee_and_starts_the_payment(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race(field_size=5)
    account = await sign_up()
    horse = await add_horse(account)

    response = await enter(client, festival, account, race, horse)

    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["status"] == "pending_payment"
    assert entry["fee"] == {
        "currency": "CNY",
        "registration": 10000,
        "start": 20000,
        "late": 0,
        "total": 30000,
    }
    assert (entry["fee_due"], entry["balance_due"]) == (30000, 30000)
    link, _, token = entry["checkout_url"].partition("?pay_token=")
    assert link.endswith(f"/pay/test/{entry['payment_id']}")
    assert token
    [payment] = await rows(db, Payment)
    assert (str(payment.id), payment.purpose, payment.reference_id, payment.amount) == (
        entry["payment_id"],
        "entry_fee",
        uuid.UUID(entry["id"]),
        30000,
    )
    assert (await rows(db, Race))[0].entered == 1
    events = await rows(db, EntryEvent)
    assert {e.kind for e in events} == {"entered", "payment_started"}

    await complete_payment(client, entry["payment_id"])

    stored = await entry_row(db, entry["id"])
    assert (stored.status, stored.amount_paid) == ("confirmed", 30000)
    mine = (await client.get("/api/v1/owners/me/entries", headers=account.headers)).json()["items"]
    assert [(e["status"], e["balance_due"], e["checkout_url"]) for e in mine] == [
        ("confirmed", 0, None)
    ]
    detail = (await client.get(f"/api/v1/entries/{entry['id']}", headers=account.headers)).json()
    assert [h["to_status"] for h in detail["history"] if h["kind"] in ("entered", "status")] == [
        "pending_payment",
        "confirmed",
    ]


async def test_every_failing_rule_is_named_and_nothing_is_stored(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race(age_min=4, height_max_cm=138, local_provinces=["XZ"], rider_min_age=16)
    account = await sign_up(
        province="四川",
        riders=[{"name": "小达娃", "birth_date": "2016-01-01", "guardian_consent": True}],
    )
    horse = await add_horse(account, birth_year=utcnow().year - 1, height_cm=145)

    response = await enter(client, festival, account, race, horse)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "ineligible"
    assert {e["code"] for e in problem["errors"]} == {
        "horse_too_young",
        "horse_too_tall",
        "not_local_horse",
        "rider_too_young",
    }
    assert all(e["message"] for e in problem["errors"])
    assert {e["field"] for e in problem["errors"]} == {"horse_id", "rider_id"}
    assert await count_rows(db, Entry) == 0
    assert await count_rows(db, Payment) == 0
    assert (await rows(db, Race))[0].entered == 0


async def test_a_closed_window_is_409_entries_closed_and_not_yet_open_is_refused(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    now = utcnow()
    closed = await make_race(
        entries_open_at=iso(now - dt.timedelta(days=9)),
        entries_close_at=iso(now - dt.timedelta(days=2)),
        late_close_at=iso(now - dt.timedelta(days=1)),
    )
    future = await make_race(
        entries_open_at=iso(now + dt.timedelta(days=1)),
        entries_close_at=iso(now + dt.timedelta(days=5)),
        late_close_at=None,
    )
    account = await sign_up()
    horse = await add_horse(account)

    too_late = await enter(client, festival, account, closed, horse)
    too_early = await enter(client, festival, account, future, horse)

    assert (too_late.status_code, too_late.json()["code"]) == (409, "entries_closed")
    assert (too_early.status_code, too_early.json()["code"]) == (409, "entries_not_open")


async def test_a_late_entry_pays_the_late_fee(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    now = utcnow()
    race = await make_race(
        entries_open_at=iso(now - dt.timedelta(days=9)),
        entries_close_at=iso(now - dt.timedelta(hours=1)),
        late_close_at=iso(now + dt.timedelta(days=1)),
    )
    account = await sign_up()
    response = await enter(client, festival, account, race, await add_horse(account))
    assert response.status_code == 201
    assert response.json()["fee"]["late"] == 5000
    assert response.json()["fee_due"] == 35000


async def test_a_horse_is_entered_once_per_race_and_a_rider_rides_one_horse(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    account = await sign_up()
    first, second = await add_horse(account), await add_horse(account)
    assert (await enter(client, festival, account, race, first)).status_code == 201
    again = await enter(client, festival, account, race, first)
    other_horse_same_rider = await enter(client, festival, account, race, second)
    assert {e["code"] for e in again.json()["errors"]} == {
        "horse_already_entered",
        "rider_already_entered",
    }
    assert [e["code"] for e in other_horse_same_rider.json()["errors"]] == ["rider_already_entered"]


async def test_the_county_cap_counts_every_owner_of_the_county(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(max_per_county=2, field_size=10)
    pairs = await stable(db, count=3, county="那曲县")
    answers = [
        await client.post(
            entries_url(festival),
            headers=organiser,
            json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
        )
        for horse, rider in pairs
    ]
    assert [a.status_code for a in answers] == [201, 201, 422]
    assert answers[2].json()["errors"][0]["code"] == "county_cap_reached"


async def test_owners_enter_only_their_own_horses_with_their_own_riders(
    client: Client,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    mine, theirs = await sign_up(), await sign_up()
    their_horse = await add_horse(theirs)
    my_horse = await add_horse(mine)
    stolen = await enter(client, festival, mine, race, their_horse)
    borrowed_rider = await enter(client, festival, mine, race, my_horse, theirs.rider_id)
    assert (stolen.status_code, stolen.json()["errors"][0]["field"]) == (422, "horse_id")
    assert (borrowed_rider.status_code, borrowed_rider.json()["errors"][0]["field"]) == (
        422,
        "rider_id",
    )
    other_race = await client.post(
        f"/api/v1/festivals/{uuid.uuid4()}/entries",
        headers=mine.headers,
        json={"race_id": race["id"], "horse_id": my_horse["id"], "rider_id": mine.rider_id},
    )
    assert other_race.status_code == 404


async def test_thirty_concurrent_entries_into_a_race_of_ten_never_overfill_it(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=10)
    pairs = await stable(db, count=30)

    answers = await asyncio.gather(
        *(
            client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
            )
            for horse, rider in pairs
        )
    )

    assert [a.status_code for a in answers] == [201] * 30
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["pending_payment"] * 10 + ["waiting"] * 20
    stored = await rows(db, Entry)
    assert sum(e.status == "pending_payment" for e in stored) == 10
    assert sorted(e.waitlist_position for e in stored if e.status == "waiting") == list(
        range(1, 21)
    )
    [stored_race] = await rows(db, Race)
    assert (stored_race.entered, stored_race.waitlist_seq) == (10, 20)
    assert await count_rows(db, Payment) == 10


async def test_concurrent_entries_respect_the_county_cap(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=50, max_per_county=4)
    pairs = await stable(db, count=12, county="嘉黎县")
    answers = await asyncio.gather(
        *(
            client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
            )
            for horse, rider in pairs
        )
    )
    assert sorted(a.status_code for a in answers) == [201] * 4 + [422] * 8
    assert await count_rows(db, Entry) == 4


async def test_a_full_race_waitlists_and_a_withdrawal_moves_the_first_one_up(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=2)
    pairs = await stable(db, count=4)
    entries = []
    for horse, rider in pairs:
        response = await client.post(
            entries_url(festival),
            headers=organiser,
            json={"race_id": race["id"], "horse_id": horse, "rider_id": rider},
        )
        entries.append(response.json())
    assert [(e["status"], e["waitlist_position"]) for e in entries] == [
        ("pending_payment", None),
        ("pending_payment", None),
        ("waiting", 1),
        ("waiting", 2),
    ]
    assert entries[2]["payment_id"] is None
    race_now = (await client.get(f"/api/v1/races/{race['id']}")).json()
    assert (race_now["places_left"], race_now["waiting"]) == (0, 2)

    withdrawn = await client.post(
        f"/api/v1/entries/{entries[0]['id']}/withdraw",
        headers=organiser,
        json={"reason": "horse lame"},
    )

    assert withdrawn.status_code == 200, withdrawn.text
    body = withdrawn.json()
    assert body["entry"]["status"] == "withdrawn"
    assert body["refund"]["amount"] == 0
    assert body["refund"]["rule"] == "nothing_paid"
    assert body["moved_up_entry_id"] == entries[2]["id"]
    moved = await entry_row(db, entries[2]["id"])
    assert (moved.status, moved.waitlist_position) == ("pending_payment", None)
    [payment] = await rows(db, Payment, Payment.reference_id == uuid.UUID(entries[0]["id"]))
    assert payment.status == "canceled"  # the open checkout of the withdrawn entry closed
    assert (await rows(db, Race))[0].entered == 2

    paying = await client.post(f"/api/v1/entries/{moved.id}/pay", headers=organiser)
    assert paying.status_code == 200, paying.text
    assert paying.json()["checkout_url"]
    await complete_payment(client, paying.json()["payment_id"])
    assert (await entry_row(db, entries[2]["id"])).status == "confirmed"

    twice = await client.post(f"/api/v1/entries/{entries[0]['id']}/withdraw", headers=organiser)
    assert (twice.status_code, twice.json()["code"]) == (409, "entry_not_active")


async def test_withdrawing_a_paid_entry_before_the_close_refunds_all_but_the_registration_fee(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    account = await sign_up()
    entry = (await enter(client, festival, account, race, await add_horse(account))).json()
    await complete_payment(client, entry["payment_id"])

    response = await client.post(f"/api/v1/entries/{entry['id']}/withdraw", headers=account.headers)

    assert response.status_code == 200, response.text
    assert response.json()["refund"] == {
        "amount": 20000,
        "currency": "CNY",
        "rule": "before_close",
        "policy": response.json()["refund"]["policy"],
        "payment_id": entry["payment_id"],
    }
    [refund] = await rows(db, PaymentRefund)
    assert refund.amount == 20000
    stored = await entry_row(db, entry["id"])
    assert (stored.status, stored.amount_paid, stored.amount_refunded) == (
        "withdrawn",
        30000,
        20000,
    )
    assert {e.kind for e in await rows(db, EntryEvent)} >= {"refunded", "paid", "status"}
    assert (await rows(db, Race))[0].entered == 0


async def test_after_the_close_a_withdrawal_refunds_only_when_the_place_is_refilled(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=1)
    pairs = await stable(db, count=3)
    made = [
        (
            await client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": h, "rider_id": r},
            )
        ).json()
        for h, r in pairs[:1]
    ]
    await complete_payment(client, made[0]["payment_id"])
    async with db.transaction() as session:  # the entries close
        await session.exec(
            update(Race).values(  # type: ignore[call-overload]
                entries_close_at=utcnow() - dt.timedelta(minutes=1), late_close_at=None
            )
        )

    alone = await client.post(f"/api/v1/entries/{made[0]['id']}/withdraw", headers=organiser)
    assert alone.json()["refund"]["amount"] == 0
    assert alone.json()["refund"]["rule"] == "after_close"
    assert await count_rows(db, PaymentRefund) == 0


async def test_a_failed_payment_releases_the_place_to_the_waiting_list(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=1)
    pairs = await stable(db, count=2)
    first, second = [
        (
            await client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": h, "rider_id": r},
            )
        ).json()
        for h, r in pairs
    ]

    cancel = await client.post(pay_path(first["payment_id"], "test-cancel"))

    assert cancel.status_code == 200, cancel.text
    assert (await entry_row(db, first["id"])).status == "canceled"
    assert (await entry_row(db, second["id"])).status == "pending_payment"
    assert (await rows(db, Race))[0].entered == 1


async def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    account = await sign_up()
    horse, other = await add_horse(account), await add_horse(account)
    key = {"Idempotency-Key": "phone-retry-1"}

    first = await enter(client, festival, account, race, horse, **key)
    replay = await enter(client, festival, account, race, horse, **key)
    reused = await enter(client, festival, account, race, other, **key)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (reused.status_code, reused.json()["code"]) == (409, "idempotency_key_reused")
    assert await count_rows(db, Entry) == 1
    [request] = await rows(db, EntryRequest)
    assert (request.key, str(request.entry_id)) == ("phone-retry-1", first.json()["id"])


async def test_concurrent_retries_with_one_key_make_one_entry(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    sign_up: OwnerFactory,
    add_horse: HorseFactory,
) -> None:
    race = await make_race()
    account = await sign_up()
    horse = await add_horse(account)
    answers = await asyncio.gather(
        *(
            enter(client, festival, account, race, horse, **{"Idempotency-Key": "k"})
            for _ in range(5)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await count_rows(db, Entry) == 1


async def test_the_inspection_confirms_or_scratches_with_a_refund(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(height_max_cm=138)
    pairs = await stable(db, count=2)
    made = [
        (
            await client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": h, "rider_id": r},
            )
        ).json()
        for h, r in pairs
    ]
    for entry in made:
        await complete_payment(client, entry["payment_id"])

    passed = await client.post(
        f"/api/v1/entries/{made[0]['id']}/inspect",
        headers=organiser,
        json={"passed": True, "measured_height_cm": 136},
    )
    failed = await client.post(
        f"/api/v1/entries/{made[1]['id']}/inspect",
        headers=organiser,
        json={"passed": True, "measured_height_cm": 141},
    )

    assert passed.status_code == 200, passed.text
    assert (passed.json()["entry"]["status"], passed.json()["passed"]) == ("inspected", True)
    assert failed.json()["passed"] is False
    assert [f["code"] for f in failed.json()["failures"]] == ["horse_too_tall"]
    assert failed.json()["entry"]["status"] == "scratched"
    assert failed.json()["refund"]["amount"] == 20000
    assert (await rows(db, Race))[0].entered == 1


async def test_an_expired_checkout_loses_the_place_when_the_owner_comes_back_to_pay(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=1)
    pairs = await stable(db, count=2)
    first, second = [
        (
            await client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": h, "rider_id": r},
            )
        ).json()
        for h, r in pairs
    ]
    async with db.transaction() as session:
        await session.exec(
            update(Payment).values(  # type: ignore[call-overload]
                expires_at=utcnow() - dt.timedelta(minutes=1)
            )
        )

    response = await client.post(f"/api/v1/entries/{first['id']}/pay", headers=organiser)

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["checkout_url"]) == ("canceled", None)
    assert (await entry_row(db, second["id"])).status == "pending_payment"
    assert await count_rows(db, Payment) == 1
    again = await client.post(f"/api/v1/entries/{first['id']}/pay", headers=organiser)
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_pay")


async def test_paying_and_withdrawing_at_the_same_moment_leave_a_consistent_entry(
    client: Client,
    db: Database,
    festival: dict[str, Any],
    make_race: RaceFactory,
    organiser: dict[str, str],
) -> None:
    race = await make_race(field_size=5)
    pairs = await stable(db, count=4)
    made = [
        (
            await client.post(
                entries_url(festival),
                headers=organiser,
                json={"race_id": race["id"], "horse_id": h, "rider_id": r},
            )
        ).json()
        for h, r in pairs
    ]

    answers = await asyncio.gather(
        *(
            call
            for entry in made
            for call in (
                client.post(pay_path(entry["payment_id"])),
                client.post(f"/api/v1/entries/{entry['id']}/withdraw", headers=organiser),
            )
        )
    )

    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    for entry in made:
        stored = await entry_row(db, entry["id"])
        [payment] = await rows(db, Payment, Payment.id == uuid.UUID(entry["payment_id"]))
        assert stored.status == "withdrawn"
        if payment.status == "canceled":  # withdrawn first: nothing was paid
            assert (stored.amount_paid, stored.amount_refunded) == (0, 0)
        else:  # paid first, then withdrawn before the close: all but the registration fee
            assert (payment.status, stored.amount_paid, stored.amount_refunded) == (
                "partially_refunded",
                30000,
                20000,
            )
    assert (await rows(db, Race))[0].entered == 0
