"""The audit trail: every successful staff change leaves one entry, in its transaction."""

import inspect
import uuid
from typing import Any

from litestar.handlers import HTTPRouteHandler
from sqlmodel import select

from events.access.guards import requires_device
from events.access.models import Role
from events.app import create_app
from events.audit.models import AuditEntry
from events.db.engine import Database
from tests.conftest import FESTIVAL_BODY, Client, UserFactory, headers_of, make_settings


async def entries(db: Database) -> list[AuditEntry]:
    async with db.transaction() as session:
        return list((await session.exec(select(AuditEntry).order_by(AuditEntry.at))).all())


async def test_a_staff_change_is_recorded_with_who_what_and_when(
    client: Client, db: Database, make_user: UserFactory
) -> None:
    organiser = await make_user(Role.ORGANISER)
    created = await client.post(
        "/api/v1/festivals", json=FESTIVAL_BODY, headers=headers_of(organiser)
    )
    festival_id = created.json()["id"]
    gate_id = created.json()["gates"][0]["id"]

    device = await client.post(
        f"/api/v1/festivals/{festival_id}/devices",
        json={"gate_id": gate_id, "name": "北门 phone 1"},
        headers=headers_of(organiser),
    )

    assert device.status_code == 201, device.text
    festival_entry, device_entry = await entries(db)
    assert (festival_entry.action, festival_entry.method, festival_entry.status) == (
        "CreateFestival",
        "POST",
        201,
    )
    assert device_entry.action == "CreateDevice"
    assert (device_entry.actor_kind, str(device_entry.actor_id), device_entry.actor_role) == (
        "user",
        organiser["user_id"],
        "organiser",
    )
    assert device_entry.path == f"/api/v1/festivals/{festival_id}/devices"
    assert device_entry.target == {"festival_id": festival_id}
    assert device_entry.festival_id == uuid.UUID(festival_id)
    assert device_entry.fields == "gate_id, name"
    assert device_entry.request_id == device.headers["X-Request-ID"]
    assert device_entry.at.tzinfo is not None


async def test_field_names_are_kept_never_their_values(
    client: Client, db: Database, organiser: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=organiser,
        json={"username": "gate-keeper", "password": "a-secret-pass-phrase-42", "role": "gate"},
    )

    assert response.status_code == 201, response.text
    [entry] = await entries(db)
    assert entry.fields == "password, role, username"
    stored = entry.model_dump_json()
    assert "a-secret-pass-phrase-42" not in stored
    assert "gate-keeper" not in stored


async def test_a_refused_or_failed_change_leaves_no_entry(
    client: Client, db: Database, organiser: dict[str, str], festival: dict[str, Any]
) -> None:
    before = len(await entries(db))
    invalid = await client.post("/api/v1/festivals", json={"slug": ""}, headers=organiser)
    taken = await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=organiser)

    assert (invalid.status_code, taken.status_code) == (422, 409)
    assert len(await entries(db)) == before


async def test_reads_owners_and_anonymous_callers_are_not_audited(
    client: Client,
    db: Database,
    make_user: UserFactory,
    organiser: dict[str, str],
    festival: dict[str, Any],
) -> None:
    before = len(await entries(db))
    assert (
        await client.get(f"/api/v1/festivals/{festival['id']}", headers=organiser)
    ).status_code == 200
    owner = await make_user(Role.OWNER)
    await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers_of(owner))
    await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x" * 12})

    assert len(await entries(db)) == before


async def test_organisers_list_filter_and_export_the_trail(
    client: Client, db: Database, make_user: UserFactory
) -> None:
    first, second = await make_user(Role.ORGANISER), await make_user(Role.ORGANISER)
    await client.post("/api/v1/festivals", json=FESTIVAL_BODY, headers=headers_of(first))
    for n in range(3):
        await client.post(
            "/api/v1/users",
            headers=headers_of(second),
            json={
                "username": f"official-{n}",
                "password": "official-pass-2027",
                "role": "official",
            },
        )

    everything = await client.get("/api/v1/audit", headers=headers_of(first))
    by_second = await client.get(
        "/api/v1/audit",
        headers=headers_of(first),
        params={"actor_id": second["user_id"], "limit": 2, "offset": 1},
    )
    festivals = await client.get(
        "/api/v1/audit", headers=headers_of(first), params={"action": "CreateFestival"}
    )
    later = await client.get(
        "/api/v1/audit", headers=headers_of(first), params={"since": "2199-01-01T00:00:00Z"}
    )
    export = await client.get(
        "/api/v1/audit/export.csv", headers=headers_of(first), params={"action": "CreateUser"}
    )

    assert everything.status_code == 200, everything.text
    assert everything.json()["total"] == 4
    page = by_second.json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 1, 2)
    assert {item["actor_id"] for item in page["items"]} == {second["user_id"]}
    assert [item["action"] for item in festivals.json()["items"]] == ["CreateFestival"]
    assert later.json()["total"] == 0
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("at,actor_kind,actor_id")
    assert len(lines) == 4
    assert all(",CreateUser," in line for line in lines[1:])
    assert (await client.get("/api/v1/audit")).status_code == 401
    official = await make_user(Role.OFFICIAL)
    assert (await client.get("/api/v1/audit", headers=headers_of(official))).status_code == 403
    assert (
        await client.get(
            "/api/v1/audit",
            headers=headers_of(first),
            params={"since": "9999-12-31T23:59:59-14:00"},
        )
    ).status_code == 422


def test_every_staff_change_route_takes_the_request_session() -> None:
    """The entry is written at the request session's commit: a guarded mutating route that
    never asks for ``db_session`` (itself or through its dependencies) would go unaudited."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:"))
    missing = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.resolve_guards():
                continue
            if requires_device in handler.resolve_guards():
                continue  # a device's scans are kept in the scan log, not audited
            if set(handler.http_methods) & {"POST", "PUT", "PATCH", "DELETE"} and not _uses(
                "db_session",
                set(handler.parsed_fn_signature.parameters),
                handler.resolve_dependencies(),
            ):
                missing.append(f"{sorted(handler.http_methods)} {handler.paths}")
    assert missing == []


def _uses(wanted: str, names: set[str], dependencies: dict[str, Any]) -> bool:
    seen: set[str] = set()
    while names - seen:
        name = (names - seen).pop()
        seen.add(name)
        if name == wanted:
            return True
        provider = dependencies.get(name)
        if provider is not None:
            names |= set(inspect.signature(provider.dependency).parameters)
    return False
