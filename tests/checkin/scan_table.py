"""The shared table of gate scans (scan_cases.json), set up through the API on either
database, and the runner of the scanner's offline decision under node."""

import datetime as dt
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FESTIVAL_BODY, Client

HERE = Path(__file__).parent
CASES: dict[str, Any] = json.loads((HERE / "scan_cases.json").read_text(encoding="utf-8"))
DECISION_JS = HERE.parents[1] / "src" / "events" / "web" / "static" / "checkin-decision.js"
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


@dataclass
class World:
    """A festival with two gates (a device at each), the enclosures the table names and a
    free ticket type for each ``ticket`` of the table."""

    client: Client
    organiser: dict[str, str]
    festival: dict[str, Any]
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    devices: list[dict[str, str]] = field(default_factory=list)

    @property
    def days(self) -> list[str]:
        return [d["date"] for m in self.festival["meetings"] for d in m["days"]]

    def moment(self, at: str) -> dt.datetime:
        """``"<day index>[+<calendar days>] HH:MM"`` → the UTC instant."""
        match = re.fullmatch(r"(\d+)(?:\+(\d+))? (\d\d):(\d\d)", at)
        assert match, at
        day = dt.date.fromisoformat(self.days[int(match[1])]) + dt.timedelta(
            days=int(match[2] or 0)
        )
        local = dt.datetime.combine(day, dt.time(int(match[3]), int(match[4])), SHANGHAI)
        return local.astimezone(dt.UTC)

    def headers(self, gate: int) -> dict[str, str]:
        return {"Authorization": self.devices[gate]["authorization"]}

    async def ticket(self, case: dict[str, Any]) -> dict[str, str]:
        """The case's own ticket, in its state: code name (``old``/``new``) → token."""
        base = f"/api/v1/festivals/{self.festival['id']}"
        order = await self.client.post(
            f"{base}/orders",
            json={
                "email": "gate@example.com",
                "items": [
                    {
                        "ticket_type_id": self.types[case["ticket"].replace("forged", "ground_d1")][
                            "id"
                        ],
                        "quantity": 1,
                    }
                ],
            },
        )
        assert order.status_code == 201, order.text
        got = await self.client.get(
            f"/api/v1/orders/{order.json()['order_id']}",
            params={"access_token": order.json()["access_token"]},
        )
        ticket = got.json()["tickets"][0]
        codes = {"old": ticket["token"], "new": ticket["token"]}
        if case["ticket"] == "forged":  # a genuine ticket's code with its signature changed
            token = ticket["token"]
            forged = token[:-8] + ("A" if token[-8] != "A" else "B") + token[-7:]
            return {"old": forged, "new": forged}
        state = case.get("state", "valid")
        if state == "canceled":
            done = await self.client.post(
                f"/api/v1/tickets/{ticket['id']}/refund",
                headers=self.organiser,
                json={"reason": "cancel"},
            )
            assert done.status_code in (200, 201), done.text
            assert done.json()["status"] == "canceled"
        elif state == "reissued":
            done = await self.client.post(
                f"/api/v1/tickets/{ticket['id']}/reissue", headers=self.organiser
            )
            assert done.status_code in (200, 201), done.text
            codes["new"] = done.json()["token"]
        return codes


async def make_world(client: Client, organiser: dict[str, str]) -> World:
    response = await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=organiser)
    assert response.status_code == 201, response.text
    world = World(client, organiser, response.json())
    festival = world.festival
    base = f"/api/v1/festivals/{festival['id']}"
    gates = [g["id"] for g in festival["gates"]]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await client.post(f"{base}/{path}", json=body, headers=organiser)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    ground = await post("enclosures", {"code": "ground", "name_zh": "场", "name_en": "Ground"})
    enclosures = {
        "ground": ground,
        "paddock": await post(
            "enclosures",
            {"code": "paddock", "name_zh": "马场", "name_en": "Paddock", "allow_reentry": True},
        ),
        "vip": await post(
            "enclosures",
            {"code": "vip", "name_zh": "贵宾", "name_en": "VIP", "gate_ids": [gates[1]]},
        ),
        "stand": await post(
            "enclosures",
            {"code": "stand", "name_zh": "看台", "name_en": "Stand", "parent_id": ground["id"]},
        ),
    }
    day_ids = [d["id"] for m in festival["meetings"] for d in m["days"]]
    for name, enclosure, day in [
        ("ground_d1", "ground", 0),
        ("ground_d2", "ground", 1),
        ("paddock_d1", "paddock", 0),
        ("vip_d1", "vip", 0),
        ("stand_d1", "stand", 0),
    ]:
        world.types[name] = await post(
            "ticket-types",
            {
                "code": name,
                "name_zh": name,
                "name_en": name,
                "enclosure_id": enclosures[enclosure]["id"],
                "day_ids": [day_ids[day]],
                "price": 0,
                "capacity": 100,
                "max_per_order": 10,
            },
        )
    for gate in gates:
        world.devices.append(await post("devices", {"gate_id": gate, "name": "phone"}))
    return world


async def run_on_server(world: World, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every case through ``POST /checkin/scan`` at its steps' times: "ok" or the reason."""
    results = []
    for number, case in enumerate(CASES["cases"]):
        codes = await world.ticket(case)
        answers = []
        for index, step in enumerate(case["steps"]):
            moment = world.moment(step["at"])
            monkeypatch.setattr("events.checkin.services.utcnow", lambda m=moment: m)
            response = await world.client.post(
                "/api/v1/checkin/scan",
                headers=world.headers(step["gate"]),
                json={
                    "secret": codes[step.get("code", "old")],
                    "nonce": f"t{number}-{index}",
                    "type": step["kind"],
                },
            )
            assert response.status_code == 200, response.text
            answer = response.json()
            answers.append("ok" if answer["status"] == "ok" else answer["reason"])
        results.append(answers)
    return results


def expected(cases: list[dict[str, Any]]) -> list[list[str]]:
    return [[step["expect"] for step in case["steps"]] for case in cases]


async def run_offline_js(world: World, tmp_path: Path) -> tuple[list[list[str]], list[list[str]]]:
    """Every case (and the offline-only ones) through the scanner's offline decision."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    cases = []
    for case in [*CASES["cases"], *CASES["offline_only"]]:
        codes = await world.ticket(case)
        keys = None
        if case.get("keys", True) is not None:
            keys = {}
            for gate in (0, 1):
                response = await world.client.get(
                    "/api/v1/checkin/keys", headers=world.headers(gate)
                )
                assert response.status_code == 200, response.text
                keys[gate] = response.json()
        cases.append(
            {
                "keys": keys,
                "steps": [
                    {
                        "token": codes[s.get("code", "old")],
                        "kind": s["kind"],
                        "gate": s["gate"],
                        "at_ms": int(world.moment(s["at"]).timestamp() * 1000),
                    }
                    for s in case["steps"]
                ],
            }
        )
    module = tmp_path / "checkin-decision.mjs"
    shutil.copyfile(DECISION_JS, module)
    done = subprocess.run(  # noqa: ASYNC221 (a short node run in a test)
        [node, str(HERE / "offline_decision.mjs")],
        capture_output=True,
        check=True,
        input=json.dumps({"module": str(module), "cases": cases}).encode(),
        timeout=60,
    )
    results: list[list[str]] = json.loads(done.stdout)
    shared = len(CASES["cases"])
    return results[:shared], results[shared:]
