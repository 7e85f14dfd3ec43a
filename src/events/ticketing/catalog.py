"""What is on sale: enclosures, ticket types and their quotas (organisers edit, all read)."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals import reads as festival_reads
from events.festivals import services as festival_services
from events.festivals.models import FestivalDay
from events.ids import field_id, field_ids, parse_id
from events.ticketing import capacity, schemas
from events.ticketing.models import (
    HOLD,
    LINE,
    ORDER,
    QUOTA,
    TICKET,
    TYPE,
    TYPE_DAY,
    Enclosure,
    EnclosureGate,
    OrderStatus,
    Ticket,
    TicketOrderLine,
    TicketQuota,
    TicketStatus,
    TicketType,
    TicketTypeDay,
)


def _maybe_id(value: str | None, field: str) -> uuid.UUID | None:
    return None if value is None else field_id(value, field, f"{value!r} is not an id.")


def _ids(values: Sequence[str], field: str) -> list[uuid.UUID]:
    return field_ids(values, field, "{value!r} is not an id.")


def on_sale(ticket_type: TicketType | Any, now: datetime) -> bool:
    return bool(
        ticket_type.is_active
        and (ticket_type.sales_start is None or ticket_type.sales_start <= now)
        and (ticket_type.sales_end is None or now < ticket_type.sales_end)
    )


def enclosure_brief(e: Enclosure) -> schemas.EnclosureBrief:
    return schemas.EnclosureBrief(
        id=str(e.id), number=e.number, code=e.code, name_zh=e.name_zh, name_en=e.name_en
    )


def day_brief(d: FestivalDay) -> schemas.DayBrief:
    return schemas.DayBrief(id=str(d.id), date=d.date, name_zh=d.name_zh, name_en=d.name_en)


class CatalogService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _festival_id(self, festival_id: str | uuid.UUID) -> uuid.UUID:
        return (await festival_services.FestivalService(self.session).get(festival_id)).id

    # --- enclosures -------------------------------------------------------------------

    async def enclosures(self, festival_id: str | uuid.UUID) -> list[schemas.EnclosureRead]:
        fid = await self._festival_id(festival_id)
        rows = (
            await self.session.exec(
                select(Enclosure)
                .where(Enclosure.festival_id == fid)
                .order_by(col(Enclosure.number))
            )
        ).all()
        gates = await self._gates_of([e.id for e in rows])
        return [self._enclosure_read(e, gates.get(e.id, [])) for e in rows]

    async def _gates_of(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        if not ids:
            return {}
        rows = await self.session.exec(
            select(EnclosureGate).where(col(EnclosureGate.enclosure_id).in_(ids))
        )
        gates: dict[uuid.UUID, list[str]] = defaultdict(list)
        for link in rows.all():
            gates[link.enclosure_id].append(str(link.gate_id))
        return gates

    @staticmethod
    def _enclosure_read(e: Enclosure, gate_ids: list[str]) -> schemas.EnclosureRead:
        return schemas.EnclosureRead(
            id=str(e.id),
            number=e.number,
            code=e.code,
            name_zh=e.name_zh,
            name_en=e.name_en,
            parent_id=str(e.parent_id) if e.parent_id else None,
            allow_reentry=e.allow_reentry,
            gate_ids=sorted(gate_ids),
        )

    async def get_enclosure(
        self, festival_id: uuid.UUID, enclosure_id: str | uuid.UUID, field: str | None = None
    ) -> Enclosure:
        key = (
            enclosure_id
            if isinstance(enclosure_id, uuid.UUID)
            else (_maybe_id(enclosure_id, field) if field else parse_id(enclosure_id, "enclosure"))
        )
        enclosure = await self.session.get(Enclosure, key)
        if enclosure is None or enclosure.festival_id != festival_id:
            if field:
                raise ValidationFailed([FieldError(field, "No such enclosure at this festival.")])
            raise NotFound(f"No enclosure with id {str(enclosure_id)!r} at this festival.")
        return enclosure

    async def _check_gates(
        self, festival_id: uuid.UUID, gate_ids: Sequence[str]
    ) -> list[uuid.UUID]:
        ids = _ids(gate_ids, "gate_ids")
        if not ids:
            return []
        found = await festival_reads.gate_ids(self.session, festival_id, ids)
        errors = [
            FieldError(f"gate_ids.{i}", "No such gate at this festival.")
            for i, g in enumerate(ids)
            if g not in found
        ]
        if errors:
            raise ValidationFailed(errors)
        return list(dict.fromkeys(ids))

    async def create_enclosure(
        self, festival_id: str, data: schemas.EnclosureCreate
    ) -> schemas.EnclosureRead:
        fid = await self._festival_id(festival_id)
        parent = (
            await self.get_enclosure(fid, data.parent_id, "parent_id") if data.parent_id else None
        )
        gate_ids = await self._check_gates(fid, data.gate_ids)
        taken = (
            await self.session.exec(
                select(Enclosure.id).where(
                    Enclosure.festival_id == fid, Enclosure.code == data.code
                )
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"The enclosure code {data.code!r} is taken.", code="enclosure_code_taken"
            )
        number = (
            int(
                (
                    await self.session.exec(
                        select(sa.func.coalesce(sa.func.max(Enclosure.number), 0)).where(
                            Enclosure.festival_id == fid
                        )
                    )
                ).one()
            )
            + 1
        )
        if number > 255:
            raise Conflict("A festival has at most 255 enclosures.", code="too_many_enclosures")
        enclosure = Enclosure(
            festival_id=fid,
            number=number,
            code=data.code,
            name_zh=data.name_zh,
            name_en=data.name_en,
            parent_id=parent.id if parent else None,
            allow_reentry=data.allow_reentry,
        )
        self.session.add(enclosure)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                "The enclosure code or number was just taken; try again.",
                code="enclosure_code_taken",
            ) from exc
        for gate_id in gate_ids:
            self.session.add(EnclosureGate(enclosure_id=enclosure.id, gate_id=gate_id))
        await self.session.flush()
        return self._enclosure_read(enclosure, [str(g) for g in gate_ids])

    async def update_enclosure(
        self, festival_id: str, enclosure_id: str, data: schemas.EnclosureUpdate
    ) -> schemas.EnclosureRead:
        fid = await self._festival_id(festival_id)
        enclosure = await self.get_enclosure(fid, enclosure_id)
        for field in ("name_zh", "name_en", "allow_reentry"):
            value = getattr(data, field)
            if value is not None:
                setattr(enclosure, field, value)
        enclosure.updated_at = utcnow()
        self.session.add(enclosure)
        if data.gate_ids is not None:
            gate_ids = await self._check_gates(fid, data.gate_ids)
            await self.session.exec(
                sa.delete(EnclosureGate).where(col(EnclosureGate.enclosure_id) == enclosure.id)
            )
            for gate_id in gate_ids:
                self.session.add(EnclosureGate(enclosure_id=enclosure.id, gate_id=gate_id))
        await self.session.flush()
        gates = await self._gates_of([enclosure.id])
        return self._enclosure_read(enclosure, gates.get(enclosure.id, []))

    # --- ticket types -----------------------------------------------------------------

    async def _days(
        self, festival_id: uuid.UUID, day_ids: Sequence[str], field: str = "day_ids"
    ) -> list[FestivalDay]:
        ids = _ids(day_ids, field)
        days = await festival_reads.days(self.session, ids, festival_id=festival_id)
        errors = [
            FieldError(f"{field}.{i}", "No such day at this festival.")
            for i, d in enumerate(ids)
            if d not in days
        ]
        errors += [
            FieldError(f"{field}.{i}", "This day appears twice.")
            for i, d in enumerate(ids)
            if ids.index(d) != i
        ]
        if errors:
            raise ValidationFailed(errors)
        return sorted(days.values(), key=lambda d: d.date)

    async def get_type(self, festival_id: uuid.UUID, type_id: str) -> TicketType:
        ticket_type = await self.session.get(TicketType, parse_id(type_id, "ticket type"))
        if ticket_type is None or ticket_type.festival_id != festival_id:
            raise NotFound(
                f"No ticket type with id {type_id!r} at this festival.",
                code="ticket_type_not_found",
            )
        return ticket_type

    async def create_type(
        self, festival_id: str, data: schemas.TicketTypeCreate
    ) -> schemas.TicketTypeRead:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        enclosure = await self.get_enclosure(festival.id, data.enclosure_id, "enclosure_id")
        days = await self._days(festival.id, data.day_ids)
        taken = (
            await self.session.exec(
                select(TicketType.id).where(
                    TicketType.festival_id == festival.id, TicketType.code == data.code
                )
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"The ticket type code {data.code!r} is taken.", code="ticket_type_code_taken"
            )
        ticket_type = TicketType(
            festival_id=festival.id,
            enclosure_id=enclosure.id,
            code=data.code,
            name_zh=data.name_zh,
            name_en=data.name_en,
            name_bo=data.name_bo,
            description_zh=data.description_zh,
            description_en=data.description_en,
            audience=data.audience,
            price=data.price,
            currency=festival.currency,
            sales_start=data.sales_start,
            sales_end=data.sales_end,
            max_per_order=data.max_per_order,
            is_active=data.is_active,
            position=data.position,
        )
        self.session.add(ticket_type)
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(
                f"The ticket type code {data.code!r} is taken.", code="ticket_type_code_taken"
            ) from exc
        for day in days:
            self.session.add(TicketTypeDay(ticket_type_id=ticket_type.id, day_id=day.id))
        await self.session.flush()
        if data.capacity is not None:
            await self._add_quota(
                festival.id,
                name=f"{data.name_en} ({data.code})",
                size=data.capacity,
                ticket_type_id=ticket_type.id,
            )
        return (await self.types(festival.id, include_inactive=True, only=[ticket_type.id]))[0]

    async def _has_sales(self, type_id: uuid.UUID) -> bool:
        ticket = (
            await self.session.exec(
                select(Ticket.id).where(Ticket.ticket_type_id == type_id).limit(1)
            )
        ).first()
        if ticket is not None:
            return True
        line = (
            await self.session.exec(
                select(TicketOrderLine.id).where(TicketOrderLine.ticket_type_id == type_id).limit(1)
            )
        ).first()
        return line is not None

    async def update_type(
        self, festival_id: str, type_id: str, data: schemas.TicketTypeUpdate
    ) -> schemas.TicketTypeRead:
        fid = await self._festival_id(festival_id)
        ticket_type = await self.get_type(fid, type_id)
        changes = data.model_dump(exclude_unset=True)
        if ("day_ids" in changes or "enclosure_id" in changes) and await self._has_sales(
            ticket_type.id
        ):
            raise Conflict(
                "Days and enclosure are fixed once a ticket type has orders; "
                "make a new type instead.",
                code="ticket_type_has_sales",
            )
        if changes.get("day_ids") is not None or changes.get("enclosure_id") is not None:
            # Which quotas the type counts against changes: plans made before are stale.
            conn = await self.session.connection()
            quota_ids = (
                (await conn.execute(sa.select(QUOTA.c.id).where(QUOTA.c.festival_id == fid)))
                .scalars()
                .all()
            )
            await capacity.lock_sorted(conn, quota_ids, lock_timeout_ms=3000)
            await conn.execute(
                sa.update(QUOTA)
                .where(QUOTA.c.festival_id == fid)
                .values(version=QUOTA.c.version + 1)
            )
        if changes.get("day_ids") is not None:
            days = await self._days(fid, changes.pop("day_ids"))
            await self.session.exec(
                sa.delete(TicketTypeDay).where(col(TicketTypeDay.ticket_type_id) == ticket_type.id)
            )
            for day in days:
                self.session.add(TicketTypeDay(ticket_type_id=ticket_type.id, day_id=day.id))
        changes.pop("day_ids", None)
        if changes.get("enclosure_id") is not None:
            enclosure = await self.get_enclosure(fid, changes.pop("enclosure_id"), "enclosure_id")
            ticket_type.enclosure_id = enclosure.id
        changes.pop("enclosure_id", None)
        for field, value in changes.items():
            if value is None and field not in ("sales_start", "sales_end"):
                continue
            setattr(ticket_type, field, value)
        if (
            ticket_type.sales_start
            and ticket_type.sales_end
            and ticket_type.sales_end <= ticket_type.sales_start
        ):
            raise ValidationFailed([FieldError("sales_end", "Must be after sales_start.")])
        ticket_type.updated_at = utcnow()
        self.session.add(ticket_type)
        await self.session.flush()
        return (await self.types(fid, include_inactive=True, only=[ticket_type.id]))[0]

    async def delete_type(self, festival_id: str, type_id: str) -> None:
        fid = await self._festival_id(festival_id)
        ticket_type = await self.get_type(fid, type_id)
        if await self._has_sales(ticket_type.id):
            raise Conflict(
                "This ticket type has orders; deactivate it instead.", code="ticket_type_has_sales"
            )
        await self.session.delete(ticket_type)
        await self.session.flush()

    async def types(
        self,
        festival_id: str | uuid.UUID,
        *,
        include_inactive: bool = False,
        only: Sequence[uuid.UUID] | None = None,
    ) -> list[schemas.TicketTypeRead]:
        """Ticket types with their days, enclosure and remaining capacity, in four queries."""
        fid = await self._festival_id(festival_id)
        query = select(TicketType).where(TicketType.festival_id == fid)
        if not include_inactive:
            query = query.where(col(TicketType.is_active))
        if only is not None:
            query = query.where(col(TicketType.id).in_(only))
        types = (
            await self.session.exec(query.order_by(col(TicketType.position), col(TicketType.code)))
        ).all()
        if not types:
            return []
        ids = [t.id for t in types]
        links = (
            await self.session.exec(
                select(TicketTypeDay.ticket_type_id, TicketTypeDay.day_id).where(
                    col(TicketTypeDay.ticket_type_id).in_(ids)
                )
            )
        ).all()
        known = await festival_reads.days(self.session, {day_id for _, day_id in links})
        days: dict[uuid.UUID, list[schemas.DayBrief]] = defaultdict(list)
        for type_id, day_id in sorted(links, key=lambda link: known[link[1]].date):
            days[type_id].append(day_brief(known[day_id]))
        enclosures = {
            e.id: e
            for e in (
                await self.session.exec(select(Enclosure).where(Enclosure.festival_id == fid))
            ).all()
        }
        now = utcnow()
        conn = await self.session.connection()
        by_type, states = await capacity.festival_coverage(conn, fid, now)
        items = []
        for t in types:
            quotas = by_type.get(t.id, [])
            remaining = min((states[q].available for q in quotas), default=0)
            items.append(
                schemas.TicketTypeRead(
                    id=str(t.id),
                    festival_id=str(t.festival_id),
                    code=t.code,
                    name_zh=t.name_zh,
                    name_en=t.name_en,
                    description_zh=t.description_zh,
                    description_en=t.description_en,
                    kind="pass" if len(days[t.id]) > 1 else "day",
                    audience=t.audience,
                    enclosure=enclosure_brief(enclosures[t.enclosure_id]),
                    days=days[t.id],
                    price=t.price,
                    currency=t.currency,
                    sales_start=t.sales_start,
                    sales_end=t.sales_end,
                    max_per_order=t.max_per_order,
                    is_active=t.is_active,
                    on_sale=on_sale(t, now),
                    remaining=remaining,
                    name_bo=t.name_bo,
                )
            )
        return items

    # --- quotas -----------------------------------------------------------------------

    async def quotas(self, festival_id: str) -> list[schemas.QuotaRead]:
        fid = await self._festival_id(festival_id)
        rows = (
            await self.session.exec(
                select(TicketQuota)
                .where(TicketQuota.festival_id == fid)
                .order_by(col(TicketQuota.name))
            )
        ).all()
        states = await capacity.quota_states(await self.session.connection(), fid, utcnow())
        return [self._quota_read(q, states[q.id]) for q in rows]

    @staticmethod
    def _quota_read(q: TicketQuota, state: capacity.QuotaState) -> schemas.QuotaRead:
        return schemas.QuotaRead(
            id=str(q.id),
            name=q.name,
            size=state.size,
            sold=state.sold,
            held=state.held,
            available=state.available,
            day_id=str(q.day_id) if q.day_id else None,
            enclosure_id=str(q.enclosure_id) if q.enclosure_id else None,
            ticket_type_id=str(q.ticket_type_id) if q.ticket_type_id else None,
        )

    async def create_quota(self, festival_id: str, data: schemas.QuotaCreate) -> schemas.QuotaRead:
        fid = await self._festival_id(festival_id)
        day_id = enclosure_id = type_id = None
        if data.day_id is not None:
            day_id = (await self._days(fid, [data.day_id], "day_id"))[0].id
        if data.enclosure_id is not None:
            enclosure_id = (await self.get_enclosure(fid, data.enclosure_id, "enclosure_id")).id
        if data.ticket_type_id is not None:
            key = _maybe_id(data.ticket_type_id, "ticket_type_id")
            ticket_type = await self.session.get(TicketType, key)
            if ticket_type is None or ticket_type.festival_id != fid:
                raise ValidationFailed(
                    [FieldError("ticket_type_id", "No such ticket type at this festival.")]
                )
            type_id = ticket_type.id
        quota = await self._add_quota(
            fid,
            name=data.name,
            size=data.size,
            day_id=day_id,
            enclosure_id=enclosure_id,
            ticket_type_id=type_id,
        )
        states = await capacity.quota_states(await self.session.connection(), fid, utcnow())
        return self._quota_read(quota, states[quota.id])

    async def _add_quota(
        self,
        festival_id: uuid.UUID,
        *,
        name: str,
        size: int,
        day_id: uuid.UUID | None = None,
        enclosure_id: uuid.UUID | None = None,
        ticket_type_id: uuid.UUID | None = None,
    ) -> TicketQuota:
        """A new quota, taking at once what it covers: valid tickets and live holds.

        Purchases of the types it covers lock the quotas those types count against; this
        locks the same quotas (in id order) and moves their ``version``, so a purchase
        that planned without the new quota waits for it and then plans again. Counted
        after the locks, in new statements, nothing sold or held meanwhile is missed.
        """
        conn = await self.session.connection()
        quota = TicketQuota(
            festival_id=festival_id,
            name=name,
            size=size,
            sold=0,
            held=0,
            day_id=day_id,
            enclosure_id=enclosure_id,
            ticket_type_id=ticket_type_id,
        )
        scope = sa.and_(
            TYPE.c.festival_id == festival_id,
            sa.true() if ticket_type_id is None else TYPE.c.id == ticket_type_id,
            sa.true() if enclosure_id is None else TYPE.c.enclosure_id == enclosure_id,
            sa.true()
            if day_id is None
            else sa.exists().where(
                TYPE_DAY.c.ticket_type_id == TYPE.c.id, TYPE_DAY.c.day_id == day_id
            ),
        )
        overlapping = (
            (
                await conn.execute(
                    sa.select(QUOTA.c.id)
                    .distinct()
                    .select_from(TYPE.join(QUOTA, capacity._matches()))
                    .where(scope)
                )
            )
            .scalars()
            .all()
        )
        await capacity.lock_sorted(conn, overlapping, lock_timeout_ms=3000)
        if overlapping:
            await conn.execute(
                sa.update(QUOTA)
                .where(QUOTA.c.id.in_(overlapping))
                .values(version=QUOTA.c.version + 1)
            )
        self.session.add(quota)
        await self.session.flush()
        now = utcnow()
        ticket, order, line = TICKET, ORDER, LINE
        covered = (
            sa.select(sa.func.count())
            .select_from(ticket.join(TYPE, TYPE.c.id == ticket.c.ticket_type_id))
            .where(ticket.c.status == TicketStatus.VALID, scope)
            .scalar_subquery()
        )
        # Every live hold of a pending order holds its covered quantity here too.
        holds = (
            sa.select(
                order.c.id,
                sa.literal(quota.id, sa.Uuid()),
                sa.func.sum(line.c.quantity),
                order.c.expires_at,
            )
            .select_from(
                order.join(line, line.c.order_id == order.c.id).join(
                    TYPE, TYPE.c.id == line.c.ticket_type_id
                )
            )
            .where(
                order.c.festival_id == festival_id,
                order.c.status == OrderStatus.PENDING,
                order.c.expires_at > now,
                sa.exists().where(HOLD.c.order_id == order.c.id, HOLD.c.expires_at > now),
                scope,
            )
            .group_by(order.c.id, order.c.expires_at)
        )
        await conn.execute(
            sa.insert(HOLD).from_select(["order_id", "quota_id", "quantity", "expires_at"], holds)
        )
        held = (
            sa.select(sa.func.coalesce(sa.func.sum(HOLD.c.quantity), 0))
            .where(HOLD.c.quota_id == quota.id)
            .scalar_subquery()
        )
        row = (await conn.execute(sa.select(covered.label("sold"), held.label("held")))).one()
        sold, taken = int(row.sold), int(row.held)
        if size < sold + taken:
            raise Conflict(
                f"{sold} sold and {taken} held: the size cannot be below that.",
                code="quota_below_taken",
                sold=sold,
                held=taken,
            )
        await conn.execute(
            sa.update(QUOTA).where(QUOTA.c.id == quota.id).values(sold=sold, held=taken)
        )
        await capacity.bump_epoch(conn, [festival_id])
        await self.session.refresh(quota)
        return quota

    async def _quota(self, festival_id: uuid.UUID, quota_id: str) -> TicketQuota:
        quota = await self.session.get(TicketQuota, parse_id(quota_id, "quota"))
        if quota is None or quota.festival_id != festival_id:
            raise NotFound(f"No quota with id {quota_id!r} at this festival.")
        return quota

    async def update_quota(
        self, festival_id: str, quota_id: str, data: schemas.QuotaUpdate
    ) -> schemas.QuotaRead:
        fid = await self._festival_id(festival_id)
        quota = await self._quota(fid, quota_id)
        conn = await self.session.connection()
        now = utcnow()
        if data.size is not None:
            # Locked like a purchase, so a shrink cannot slip under a concurrent sale; its
            # lapsed holds go first, so ``held`` counts only live ones.
            await capacity.lock_sorted(conn, [quota.id], lock_timeout_ms=3000)
            await capacity.drop_lapsed(conn, [quota.id], now)
            row = (
                await conn.execute(
                    sa.select(QUOTA.c.sold, QUOTA.c.held).where(QUOTA.c.id == quota.id)
                )
            ).one()
            if data.size < row.sold + row.held:
                raise Conflict(
                    f"{row.sold} sold and {row.held} held: the size cannot go below that.",
                    code="quota_below_taken",
                    sold=row.sold,
                    held=row.held,
                )
            await conn.execute(
                sa.update(QUOTA)
                .where(QUOTA.c.id == quota.id)
                .values(size=data.size, updated_at=now)
            )
            await capacity.bump_epoch(conn, [fid])
        if data.name is not None:
            await conn.execute(
                sa.update(QUOTA)
                .where(QUOTA.c.id == quota.id)
                .values(name=data.name, updated_at=now)
            )
        await self.session.refresh(quota)
        states = await capacity.quota_states(conn, fid, now)
        return self._quota_read(quota, states[quota.id])

    async def delete_quota(self, festival_id: str, quota_id: str) -> None:
        """A purchase planned with this quota finds it gone under its locks and plans
        again; the capacity it limited is given back."""
        fid = await self._festival_id(festival_id)
        quota = await self._quota(fid, quota_id)
        conn = await self.session.connection()
        await capacity.lock_sorted(conn, [quota.id], lock_timeout_ms=3000)
        await conn.execute(sa.delete(QUOTA).where(QUOTA.c.id == quota.id))
        await capacity.bump_epoch(conn, [fid])
        self.session.expunge(quota)
