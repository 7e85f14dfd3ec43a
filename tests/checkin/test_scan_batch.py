"""Scans decided several per statement (``checkin.batch``, PostgreSQL): each one decided
exactly once, as if alone, and answered with its own result."""

import asyncio
import contextvars
import datetime as dt
from typing import Any

import pytest
from litestar import Litestar

from events.checkin.batch import ScanBatcher
from events.checkin.controllers import provide_checkin
from events.db.engine import Database
from tests.checkin.conftest import Gate, make_device, nonce, scan, tickets_of
from tests.checkin.scan_table import CASES, expected, make_world
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, scalar

_clock: contextvars.ContextVar[dt.datetime] = contextvars.ContextVar("clock")


def _batcher(app: Litestar, wait: float = 0.05) -> ScanBatcher:
    """The app's batcher, holding scans long enough that concurrent ones share a batch
    however slow the machine is."""
    batcher = provide_checkin(app.state).batcher
    assert batcher is not None
    batcher.wait = wait
    return batcher


async def test_the_scan_table_decided_in_concurrent_batches(
    app: Litestar, client: Client, organiser: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every case of scan_cases.json at once: the cases' scans share statements (each
    case's own steps stay in order, each at its own moment) and each gets the answer it
    gets alone."""
    world = await make_world(client, organiser)
    codes = [await world.ticket(case) for case in CASES["cases"]]
    batcher = _batcher(app)
    monkeypatch.setattr("events.checkin.services.utcnow", lambda: _clock.get())

    async def run(number: int, case: dict[str, Any]) -> list[str]:
        answers = []
        for index, step in enumerate(case["steps"]):
            _clock.set(world.moment(step["at"]))
            response = await client.post(
                "/api/v1/checkin/scan",
                headers=world.headers(step["gate"]),
                json={
                    "secret": codes[number][step.get("code", "old")],
                    "nonce": f"b{number}-{index}",
                    "type": step["kind"],
                },
            )
            assert response.status_code == 200, response.text
            answer = response.json()
            answers.append("ok" if answer["status"] == "ok" else answer["reason"])
        return answers

    results = await asyncio.gather(
        *(
            asyncio.create_task(run(n, case), context=contextvars.copy_context())
            for n, case in enumerate(CASES["cases"])
        )
    )
    assert list(results) == expected(CASES["cases"])
    genuine = sum(len(c["steps"]) for c in CASES["cases"] if c["ticket"] != "forged")
    assert batcher.stats.scans == genuine  # forged codes are refused before the database
    assert batcher.stats.largest > 1
    assert batcher.stats.batches < genuine


async def test_fifty_concurrent_scans_of_one_ticket_admit_one_through_the_batch(
    app: Litestar,
    client: Client,
    organiser: dict[str, str],
    catalog: Catalog,
    gates: list[Gate],
    on_day: Any,
    db: Database,
    festival: dict[str, Any],
) -> None:
    """50 scans of one ticket from 10 devices, amid 30 other tickets' first scans: the
    ticket is admitted once, each other ticket once; batches held several scans, never
    two of one ticket."""
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    others = await tickets_of(client, catalog, catalog.day1, 10)
    others += await tickets_of(client, catalog, catalog.day1, 10)
    others += await tickets_of(client, catalog, catalog.day1, 10)
    devices = [
        *gates,
        *[
            await make_device(client, organiser, festival["id"], gates[i % 2].id, f"extra-{i}")
            for i in range(8)
        ],
    ]
    batcher = _batcher(app)
    for _ in range(3):  # three rounds, as the adversary ran them
        answers = await asyncio.gather(
            *(scan(client, devices[i % len(devices)], ticket["token"]) for i in range(50)),
            *(scan(client, devices[i % len(devices)], t["token"]) for i, t in enumerate(others)),
        )
        mine, theirs = answers[:50], answers[50:]
        assert [a["status"] for a in mine].count("ok") <= 1
        assert {a["reason"] for a in mine if a["status"] == "error"} == {"already_redeemed"}
        assert all(a["ticket"]["id"] == ticket["id"] for a in mine)
        assert [a["ticket"]["id"] for a in theirs] == [t["id"] for t in others]
        if _ == 0:
            assert [a["status"] for a in mine].count("ok") == 1
            assert {a["status"] for a in theirs} == {"ok"}
        else:
            assert {a["reason"] for a in theirs} == {"already_redeemed"}
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 240
    assert (
        await scalar(
            db,
            f"SELECT COUNT(*) FROM checkin_scan WHERE result = 'ok' "
            f"AND ticket_id = '{ticket['id']}'",
        )
        == 1
    )
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan WHERE result = 'ok'") == 31
    assert await scalar(db, "SELECT SUM(entries) FROM checkin_presence") == 31
    assert batcher.stats.scans == 240
    assert batcher.stats.largest > 1
    assert batcher.stats.batches >= 50  # one ticket's scans never share a statement


async def test_a_retried_nonce_in_one_batch_is_decided_once(
    app: Litestar, client: Client, catalog: Catalog, gates: list[Gate], on_day: Any, db: Database
) -> None:
    """The same device and nonce sent five times at once: one decision, five equal
    answers, one row in the log."""
    on_day(catalog.days[0]["date"])
    ticket = (await tickets_of(client, catalog, catalog.day1))[0]
    _batcher(app)
    same = nonce()
    answers = await asyncio.gather(
        *(scan(client, gates[0], ticket["token"], nonce_value=same) for _ in range(5))
    )
    assert {a["status"] for a in answers} == {"ok"}
    assert sum(1 for a in answers if not a["replayed"]) == 1
    assert await scalar(db, "SELECT COUNT(*) FROM checkin_scan") == 1
    assert await scalar(db, "SELECT entries FROM checkin_presence") == 1
