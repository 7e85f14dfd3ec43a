"""Start lists: drawn by lot from a race's confirmed entries (or a final's qualifiers),
published, then frozen when the race has a result.

* **Who is drawn**: entries that are confirmed or inspected (and, when the officials say
  so, those still owing their fee). A final draws the qualifiers of its heats instead
  (``qualifiers``). With ``max_starters`` and more candidates than that, the first
  ``max_starters`` in draw order start and the rest are reserves, in draw order: the
  published, reproducible selection of an over-subscribed race (DOMAIN rule 4).
* **The draw**: ``events.results.draw`` (seed recorded and returned; same seed, same order
  on any machine). Before publication the officials may draw again (a ``redrawn`` event
  keeps the earlier seed); after it, they may not.
* **Scratches** after the draw name a reason. The scratched horse's position goes to the
  first reserve, else to the entry the registration waiting list moves up (registration
  scratches the entry, refunds by rule and moves its waiting list). A scratch after
  publication is an amendment of the start list, logged like every change in
  ``start_list_event``. A frozen list (the race has a result) does not change.
* **Heats → final**: ``HeatSetup`` names the heats, how many of each go through and the
  tie rule at the cut (see ``models.TieRule``); every heat must be official first.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.config import Settings
from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.ids import field_id
from events.registration import common as registration_common
from events.registration import entries as registration_entries
from events.registration import reads as registration_reads
from events.registration.models import EntryStatus, Race
from events.results import draw, reads, schemas
from events.results.models import (
    DrawMethod,
    HeatSetup,
    PositionStatus,
    ResultStatus,
    SeparateBy,
    StarterResult,
    StartList,
    StartListEvent,
    StartListStatus,
    StartPosition,
    TieRule,
)
from events.results.notifications import notify

DRAWN_STATUSES = (EntryStatus.CONFIRMED, EntryStatus.INSPECTED)


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: uuid.UUID
    role: Role


def _uuid(value: str, field: str, what: str) -> uuid.UUID:
    return field_id(value, field, f"No {what} with id {value!r}.", code="horse_not_in_race")


class StartListService:
    def __init__(self, session: AsyncSession, settings: Settings | None = None) -> None:
        self.session = session
        self.settings = settings

    def _event(
        self,
        race_id: uuid.UUID,
        kind: str,
        *,
        entry_id: uuid.UUID | None = None,
        detail: str = "",
        actor: Actor | None = None,
    ) -> None:
        self.session.add(
            StartListEvent(
                race_id=race_id,
                kind=kind,
                entry_id=entry_id,
                detail=detail[:500],
                actor_id=actor.user_id if actor else None,
            )
        )

    # --- drawing --------------------------------------------------------------------------

    async def draw(self, actor: Actor, race_id: str, data: schemas.DrawIn) -> StartList:
        race = await reads.lock_race(self.session, race_id)
        existing = await reads.start_list(self.session, race.id)
        if existing is not None and existing.status != StartListStatus.DRAWN:
            raise Conflict(
                f"The start list is {existing.status}: it cannot be drawn again; "
                "scratch with a reason instead.",
                code="start_list_published",
            )
        setup = await self.session.get(HeatSetup, race.id)
        seed = data.seed if data.seed is not None else draw.new_seed()
        separate_by = data.separate_by or (
            SeparateBy.COUNTY if data.method == DrawMethod.SEPARATED else None
        )
        if setup is not None:
            cards = await self.qualifiers(setup, seed)
        else:
            statuses = (
                (*DRAWN_STATUSES, EntryStatus.PENDING_PAYMENT)
                if data.include_unpaid
                else DRAWN_STATUSES
            )
            cards = await registration_reads.race_entries(self.session, race.id, statuses)
        if not cards:
            raise Conflict("No confirmed entries to draw.", code="no_starters")
        candidates = [
            draw.Candidate(
                key=str(c.entry_id),
                group=(
                    str(c.owner_id)
                    if separate_by == SeparateBy.OWNER
                    else f"{c.province}/{c.county}"
                ),
            )
            for c in cards
        ]
        order, kept = draw.draw(seed, candidates, separate=separate_by is not None)
        if existing is None:
            start_list = StartList(
                race_id=race.id,
                festival_id=race.festival_id,
                seed=seed,
                algorithm=draw.ALGORITHM,
                method=data.method,
            )
            kind, detail = "drawn", f"seed {seed}"
        else:
            start_list = existing
            start_list.draws += 1
            kind, detail = "redrawn", f"seed {existing.seed} replaced by seed {seed}"
            await self.session.exec(
                delete(StartPosition).where(col(StartPosition.race_id) == race.id)
            )
        start_list.seed, start_list.method = seed, data.method
        start_list.separate_by, start_list.separation_kept = separate_by, kept
        start_list.max_starters, start_list.include_unpaid = data.max_starters, data.include_unpaid
        start_list.from_heats = setup is not None
        start_list.drawn_at, start_list.drawn_by = utcnow(), actor.user_id
        self.session.add(start_list)
        await self.session.flush()
        limit = data.max_starters or len(order)
        for n, candidate in enumerate(order, start=1):
            starter = n <= limit
            self.session.add(
                StartPosition(
                    start_list_id=start_list.id,
                    race_id=race.id,
                    entry_id=uuid.UUID(candidate.key),
                    draw_order=n,
                    position=n if starter else None,
                    status=PositionStatus.STARTER if starter else PositionStatus.RESERVE,
                )
            )
        self._event(
            race.id,
            kind,
            detail=f"{detail}, {draw.ALGORITHM}, {len(order)} drawn"
            + (f", {limit} start" if data.max_starters else ""),
            actor=actor,
        )
        await self.session.flush()
        notify(self.session, race.festival_id, race.id, "start_list")
        return start_list

    async def qualifiers(self, setup: HeatSetup, seed: int) -> list[registration_reads.EntryCard]:
        """The heats' qualifiers by the declared rule (heats must be official)."""
        chosen: list[uuid.UUID] = []
        heat_ids = [uuid.UUID(h) for h in setup.heat_race_ids]
        versions = await reads.latest_versions(self.session, heat_ids)
        for heat_id in heat_ids:
            version = versions.get(heat_id)
            if version is None or version.status == ResultStatus.PROVISIONAL:
                raise Conflict(
                    f"Heat {heat_id} has no official result yet.", code="heats_not_official"
                )
        rows = await reads.rows_of(self.session, [versions[h].id for h in heat_ids])
        for heat_id in heat_ids:
            finishers = [
                r
                for r in rows[versions[heat_id].id]
                if r.status == StarterResult.FINISHED and r.place is not None
            ]
            n = setup.advance_per_heat
            inside = [r for r in finishers if (r.place or 0) <= n]
            if len(inside) > n and setup.tie_rule != TieRule.ALL:
                cut = max(r.place or 0 for r in inside)
                ahead = [r for r in inside if r.place != cut]
                tied = [r for r in inside if r.place == cut]
                need = n - len(ahead)
                if setup.tie_rule == TieRule.TIME:
                    tied.sort(
                        key=lambda r: r.time_hundredths if r.time_hundredths is not None else 2**62
                    )
                    last = tied[need - 1].time_hundredths
                    tied = [
                        r
                        for i, r in enumerate(tied)
                        if i < need or (last is not None and r.time_hundredths == last)
                    ]
                else:
                    tied.sort(key=lambda r: draw.lot(seed, str(r.entry_id)))
                    tied = tied[:need]
                inside = ahead + tied
            chosen += [r.entry_id for r in inside]
        cards = await registration_reads.entry_cards(self.session, chosen)
        return [cards[e] for e in chosen]

    async def set_heats(self, race_id: str, data: schemas.HeatSetupIn) -> HeatSetup:
        race = await reads.lock_race(self.session, race_id)
        errors = []
        for i, heat_id in enumerate(data.heat_race_ids):
            try:
                heat = await reads.race(self.session, heat_id)
            except NotFound:
                heat = None
            if heat is None or heat.festival_id != race.festival_id or heat.id == race.id:
                errors.append(
                    FieldError(f"heat_race_ids.{i}", f"No other race {heat_id!r} at this festival.")
                )
        if len(set(data.heat_race_ids)) != len(data.heat_race_ids):
            errors.append(FieldError("heat_race_ids", "A heat is named twice."))
        if errors:
            raise ValidationFailed(errors)
        setup = await self.session.get(HeatSetup, race.id) or HeatSetup(
            final_race_id=race.id, advance_per_heat=data.advance_per_heat
        )
        setup.heat_race_ids = [str(uuid.UUID(h)) for h in data.heat_race_ids]
        setup.advance_per_heat, setup.tie_rule = data.advance_per_heat, data.tie_rule
        setup.updated_at = utcnow()
        self.session.add(setup)
        await self.session.flush()
        return setup

    # --- publishing, scratching, freezing ---------------------------------------------------

    async def _locked_list(self, race_id: str) -> tuple[Race, StartList]:
        race = await reads.lock_race(self.session, race_id)
        start_list = await reads.start_list(self.session, race.id)
        if start_list is None:
            raise Conflict("The start list has not been drawn yet.", code="start_list_missing")
        return race, start_list

    async def publish(self, actor: Actor, race_id: str) -> StartList:
        race, start_list = await self._locked_list(race_id)
        if start_list.status == StartListStatus.DRAWN:
            start_list.status = StartListStatus.PUBLISHED
            start_list.published_at = utcnow()
            self.session.add(start_list)
            self._event(race.id, "published", detail=f"seed {start_list.seed}", actor=actor)
            await self.session.flush()
            notify(self.session, race.festival_id, race.id, "start_list")
        return start_list

    async def freeze(self, race: Race, actor: Actor) -> StartList:
        start_list = await reads.start_list(self.session, race.id)
        if start_list is None:
            raise Conflict(
                "Draw the start list before entering results.", code="start_list_missing"
            )
        if start_list.status != StartListStatus.FROZEN:
            start_list.status = StartListStatus.FROZEN
            start_list.frozen_at = utcnow()
            start_list.published_at = start_list.published_at or start_list.frozen_at
            self.session.add(start_list)
            self._event(race.id, "frozen", detail="results entered", actor=actor)
        return start_list

    async def scratch(self, actor: Actor, race_id: str, data: schemas.ScratchIn) -> StartList:
        race, start_list = await self._locked_list(race_id)
        if start_list.status == StartListStatus.FROZEN:
            raise Conflict(
                "The race has a result: its start list is frozen.", code="start_list_frozen"
            )
        entry_id = _uuid(data.entry_id, "entry_id", "entry")
        rows = (await reads.positions(self.session, [race.id]))[race.id]
        row = next(
            (r for r in rows if r.entry_id == entry_id and r.status != PositionStatus.SCRATCHED),
            None,
        )
        if row is None:
            raise ValidationFailed(
                [
                    FieldError(
                        "entry_id", "This horse is not on the start list (or is scratched already)."
                    )
                ],
                code="horse_not_in_race",
            )
        vacated, was_starter = row.position, row.status == PositionStatus.STARTER
        row.status, row.position = PositionStatus.SCRATCHED, None
        row.scratch_reason, row.changed_at = data.reason, utcnow()
        self.session.add(row)
        amended = (
            " (amendment after publication)" if start_list.status != StartListStatus.DRAWN else ""
        )
        self._event(
            race.id, "scratched", entry_id=entry_id, detail=data.reason + amended, actor=actor
        )
        await self.session.flush()
        moved_up: uuid.UUID | None = None
        if not start_list.from_heats:
            moved_up = await self._scratch_entry(actor, entry_id, data.reason)
        if was_starter:
            reserve = next((r for r in rows if r.status == PositionStatus.RESERVE), None)
            if reserve is not None:
                reserve.status, reserve.position = PositionStatus.STARTER, vacated
                reserve.changed_at = utcnow()
                self.session.add(reserve)
                self._event(
                    race.id,
                    "moved_up",
                    entry_id=reserve.entry_id,
                    detail=f"reserve takes position {vacated}",
                    actor=actor,
                )
            elif moved_up is not None:
                self.session.add(
                    StartPosition(
                        start_list_id=start_list.id,
                        race_id=race.id,
                        entry_id=moved_up,
                        draw_order=max(r.draw_order for r in rows) + 1,
                        position=vacated,
                        status=PositionStatus.STARTER,
                    )
                )
                self._event(
                    race.id,
                    "moved_up",
                    entry_id=moved_up,
                    detail=f"from the waiting list to position {vacated}",
                    actor=actor,
                )
        await self.session.flush()
        notify(self.session, race.festival_id, race.id, "start_list")
        return start_list

    async def _scratch_entry(
        self, actor: Actor, entry_id: uuid.UUID, reason: str
    ) -> uuid.UUID | None:
        """Registration scratches the entry (refund by rule, waiting list moves up)."""
        entries = registration_entries.EntryService(self.session, self.settings)
        try:
            left = await entries.scratch(
                registration_common.Actor(user_id=actor.user_id, role=actor.role),
                str(entry_id),
                reason,
            )
        except Conflict:
            return None  # no longer active in registration: nothing more to do there
        return uuid.UUID(left.moved_up_entry_id) if left.moved_up_entry_id else None

    # --- reading --------------------------------------------------------------------------

    async def read(self, race_id: str | uuid.UUID, *, public: bool) -> schemas.StartListRead:
        race = await reads.race(self.session, race_id)
        start_list = await reads.start_list(self.session, race.id)
        if start_list is None or (public and start_list.status == StartListStatus.DRAWN):
            raise NotFound(
                "This race has no published start list yet.", code="start_list_not_published"
            )
        return (await start_list_reads(self.session, [start_list]))[race.id]


def _position_read(
    p: StartPosition, card: registration_reads.EntryCard
) -> schemas.StartPositionRead:
    return schemas.StartPositionRead(
        entry_id=str(p.entry_id),
        horse_id=str(card.horse_id),
        horse_name=card.horse_name,
        rider_name=card.rider_name,
        owner_name=card.owner_name,
        province=card.province,
        county=card.county,
        draw_order=p.draw_order,
        position=p.position,
        status=p.status,
        scratch_reason=p.scratch_reason,
    )


async def start_list_reads(
    session: AsyncSession, lists: Sequence[StartList]
) -> dict[uuid.UUID, schemas.StartListRead]:
    race_ids = [s.race_id for s in lists]
    by_race = await reads.positions(session, race_ids)
    cards = await registration_reads.entry_cards(
        session, [p.entry_id for rows in by_race.values() for p in rows]
    )
    events: dict[uuid.UUID, list[StartListEvent]] = {r: [] for r in race_ids}
    if race_ids:
        for event in (
            await session.exec(
                select(StartListEvent)
                .where(col(StartListEvent.race_id).in_(race_ids))
                .order_by(col(StartListEvent.at), col(StartListEvent.id))
            )
        ).all():
            events[event.race_id].append(event)
    found = {}
    for s in lists:
        rows = by_race[s.race_id]

        def of(
            status: PositionStatus, rows: list[StartPosition] = rows
        ) -> list[schemas.StartPositionRead]:
            chosen = [p for p in rows if p.status == status]
            if status == PositionStatus.STARTER:
                chosen.sort(key=lambda p: p.position or 0)
            return [_position_read(p, cards[p.entry_id]) for p in chosen]

        found[s.race_id] = schemas.StartListRead(
            race_id=str(s.race_id),
            festival_id=str(s.festival_id),
            status=s.status,
            seed=s.seed,
            algorithm=s.algorithm,
            method=s.method,
            separate_by=s.separate_by,
            separation_kept=s.separation_kept,
            max_starters=s.max_starters,
            include_unpaid=s.include_unpaid,
            from_heats=s.from_heats,
            draws=s.draws,
            drawn_at=s.drawn_at,
            published_at=s.published_at,
            frozen_at=s.frozen_at,
            starters=of(PositionStatus.STARTER),
            reserves=of(PositionStatus.RESERVE),
            scratched=of(PositionStatus.SCRATCHED),
            history=[
                schemas.StartListEventRead(
                    kind=e.kind,
                    entry_id=str(e.entry_id) if e.entry_id else None,
                    detail=e.detail,
                    actor_id=str(e.actor_id) if e.actor_id else None,
                    at=e.at,
                )
                for e in events[s.race_id]
            ],
        )
    return found
