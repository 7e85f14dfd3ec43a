"""Console actions leave audit entries like the API's: the cookie's principal, the page's
operation id, the fields posted (never their values), in the change's own transaction."""

from typing import Any

from sqlmodel import select

from events.access.models import Role
from events.audit.models import AuditEntry
from events.db.engine import Database
from tests.conftest import Client
from tests.console.conftest import StaffFactory, console_sign_in


async def audit_entries(db: Database) -> list[AuditEntry]:
    async with db.transaction() as session:
        return list((await session.exec(select(AuditEntry).order_by(AuditEntry.at))).all())


async def test_a_console_change_is_audited_and_a_refused_one_is_not(
    client: Client, festival: dict[str, Any], make_staff: StaffFactory, db: Database
) -> None:
    staff = await make_staff(Role.ORGANISER)
    token = await console_sign_in(client, staff)
    before = len(await audit_entries(db))
    url = f"/console/festivals/{festival['id']}/setup/gates"

    created = await client.post(
        url, data={"_csrf_token": token, "code": "west", "name_zh": "西门", "name_en": "West gate"}
    )
    refused = await client.post(
        url, data={"_csrf_token": token, "code": "", "name_zh": "", "name_en": ""}
    )

    assert created.status_code == 303, created.text
    assert refused.status_code == 422
    entries = (await audit_entries(db))[before:]
    assert [(e.action, e.method, str(e.actor_id), e.actor_role) for e in entries] == [
        ("ConsoleGateCreate", "POST", staff.id, "organiser")
    ]
    [entry] = entries
    assert entry.path == url
    assert "西门" not in entry.fields
    assert "west" not in entry.fields
    assert "name_zh" in entry.fields
