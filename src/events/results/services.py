"""Results: entered by officials, provisional → official → amended, in the open.

* One call submits a whole race (``submit``); it is checked whole and stored whole, or
  refused with every bad field named and nothing stored. The race row is locked while a
  result is written, so two submissions of one race run one after the other; a retried
  submission with the same ``Idempotency-Key`` answers the version it created.
* Each submission is a new ``result_version``: ``provisional`` before the race is
  official (a correction of a provisional result is just a newer provisional version),
  ``amended`` after it, and then only with a reason. Declaring official is its own act
  and version (``declare_official``), refused while an objection is open or the
  category's objection window (default 15 minutes after the provisional result) runs.
* Objections are lodged during the window (or, as a stewards' inquiry, against an
  official result, which holds its prize money) and decided by an official.
* Official and amended versions settle the prize money (``payouts.settle``).

This module is the domain's front door for other domains: ``festival_results``,
``prize_money_totals``, ``register_payout_listener``, ``register_results_listener``.
"""

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import services as access_services
from events.awards import categories as award_categories
from events.awards import prize_list as award_prize_list
from events.awards.models import AwardCategory
from events.db.base import utcnow
from events.errors import Conflict, FieldError, NotFound, ValidationFailed
from events.festivals import services as festival_services
from events.idempotency import fingerprint, same_request
from events.ids import parse_id
from events.registration import reads as registration_reads
from events.registration.models import Race
from events.results import payouts, ranking, reads, schemas
from events.results.models import (
    HeatSetup,
    Objection,
    ObjectionStatus,
    PositionStatus,
    ResultRow,
    ResultsRule,
    ResultStatus,
    ResultVersion,
    StartList,
)
from events.results.notifications import notify, register_results_listener, results_changed
from events.results.payouts import (
    PayoutPaid,
    PrizeMoneyTotals,
    prize_money_totals,
    register_payout_listener,
)
from events.results.points import DEFAULT_POINTS, parse_points, points_standings
from events.results.startlists import Actor, StartListService, start_list_reads

__all__ = [
    "DEFAULT_POINTS",
    "Actor",
    "PayoutPaid",
    "PrizeMoneyTotals",
    "ResultService",
    "festival_results",
    "parse_points",
    "points_standings",
    "prize_money_totals",
    "register_payout_listener",
    "register_results_listener",
    "results_changed",
]

DEFAULT_RULE = ResultsRule(category_id=uuid.UUID(int=0), festival_id=uuid.UUID(int=0))


def _fingerprint(data: schemas.ResultsIn) -> str:
    return fingerprint(data.model_dump(mode="json"))


def _hundredths(value: object) -> int:
    return int(Decimal(str(value)) * 100)


def _field_error(error: dict[str, str]) -> FieldError:
    found = FieldError(error["field"], error["message"])
    found["code"] = error["code"]
    return found


class ResultService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- rules ----------------------------------------------------------------------------

    async def _category(self, race: Race) -> AwardCategory | None:
        if race.award_category_id is None:
            return None
        return (await award_categories.category_names(self.session, race.festival_id)).get(
            race.award_category_id
        )

    async def rule_of(self, race: Race) -> tuple[str, ResultsRule]:
        category = await self._category(race)
        rule = None
        if category is not None:
            rule = await self.session.get(ResultsRule, category.id)
        return (str(category.ranked_by) if category else "finish_order"), rule or DEFAULT_RULE

    async def set_rule(
        self, festival_id: str, category_id: str, data: schemas.ResultsRuleIn
    ) -> ResultsRule:
        festival = await festival_services.FestivalService(self.session).get(festival_id)
        cid = parse_id(category_id, "award category")
        if cid not in await award_categories.category_names(self.session, festival.id):
            raise NotFound(f"No award category {category_id!r} at this festival.")
        if data.score_min > data.score_max:
            raise ValidationFailed([FieldError("score_max", "Below the minimum score.")])
        rule = await self.session.get(ResultsRule, cid) or ResultsRule(
            category_id=cid, festival_id=festival.id
        )
        rule.objection_minutes, rule.judges_rule = data.objection_minutes, data.judges_rule
        rule.score_min, rule.score_max = _hundredths(data.score_min), _hundredths(data.score_max)
        rule.max_gait_faults, rule.updated_at = data.max_gait_faults, utcnow()
        self.session.add(rule)
        await self.session.flush()
        return rule

    # --- entering results -----------------------------------------------------------------

    async def submit(
        self,
        actor: Actor,
        race_id: str,
        data: schemas.ResultsIn,
        *,
        idempotency_key: str | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[ResultVersion, bool]:
        """Store a whole race's result as a new version; (version, replayed)."""
        race = await reads.lock_race(self.session, race_id)
        fingerprint = _fingerprint(data)
        if idempotency_key is not None:
            earlier = (
                await self.session.exec(
                    select(ResultVersion).where(
                        ResultVersion.race_id == race.id,
                        ResultVersion.idempotency_key == idempotency_key,
                    )
                )
            ).first()
            if earlier is not None:
                same_request(earlier.fingerprint, fingerprint, "result")
                return earlier, True
        latest = await reads.latest_version(self.session, race.id)
        amending = latest is not None and latest.status != ResultStatus.PROVISIONAL
        if amending and not data.reason:
            raise ValidationFailed(
                [FieldError("reason", "The result is official: an amendment names its reason.")],
                code="reason_required",
            )
        positions = (await reads.positions(self.session, [race.id]))[race.id]
        if not positions:
            raise Conflict(
                "Draw the start list before entering results.", code="start_list_missing"
            )
        starters = {p.entry_id for p in positions if p.status == PositionStatus.STARTER}
        method, rule = await self.rule_of(race)
        lines, errors = self._lines(data, starters)
        ranked = ranking.rank(
            method,
            lines,
            ranking.Rule(
                judges_rule=rule.judges_rule,
                score_min=rule.score_min,
                score_max=rule.score_max,
                max_gait_faults=rule.max_gait_faults,
            ),
        )
        errors += [
            {"field": p.field, "code": p.code, "message": p.message} for p in ranked.problems
        ]
        if errors:
            raise ValidationFailed(
                [_field_error(e) for e in errors],
                code=errors[0]["code"],
                detail="The result was refused and nothing was stored: "
                + "; ".join(f"{e['field']}: {e['code']}" for e in errors),
            )
        now = now or utcnow()
        status = ResultStatus.AMENDED if amending else ResultStatus.PROVISIONAL
        version = ResultVersion(
            race_id=race.id,
            festival_id=race.festival_id,
            number=(latest.number + 1) if latest else 1,
            status=status,
            ranked_by=method,
            reason=data.reason,
            recorded_by=actor.user_id,
            recorded_at=now,
            objections_close_at=None
            if amending
            else now + dt.timedelta(minutes=rule.objection_minutes),
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )
        self.session.add(version)
        await self.session.flush()
        rows = [
            ResultRow(
                version_id=version.id,
                race_id=race.id,
                entry_id=uuid.UUID(r.line.entry_id),
                status=r.status,
                place=r.place,
                dead_heat=r.dead_heat,
                time_hundredths=r.line.time_hundredths,
                gait_faults=r.line.gait_faults,
                count=r.line.count,
                scores=list(r.line.scores),
                score=r.score,
                points=r.line.points,
                reason=r.reason,
            )
            for r in ranked.rows
        ]
        self.session.add_all(rows)
        await StartListService(self.session).freeze(race, actor)
        await self.session.flush()
        if amending:
            await payouts.settle(self.session, race, version, rows, actor.user_id, data.reason)
        notify(self.session, race.festival_id, race.id, status.value)
        return version, False

    @staticmethod
    def _lines(
        data: schemas.ResultsIn, starters: set[uuid.UUID]
    ) -> tuple[list[ranking.Line], list[dict[str, str]]]:
        errors: list[dict[str, str]] = []
        lines: list[ranking.Line] = []
        seen: set[uuid.UUID] = set()
        for i, s in enumerate(data.starters):
            try:
                entry_id = uuid.UUID(s.entry_id)
            except ValueError:
                entry_id = None
            if entry_id is None or entry_id not in starters:
                errors.append(
                    {
                        "field": f"starters.{i}.entry_id",
                        "code": "horse_not_in_race",
                        "message": f"{s.entry_id!r} is not a starter in this race.",
                    }
                )
            elif entry_id in seen:
                errors.append(
                    {
                        "field": f"starters.{i}.entry_id",
                        "code": "starter_twice",
                        "message": "This starter appears twice.",
                    }
                )
            else:
                seen.add(entry_id)
            lines.append(
                ranking.Line(
                    entry_id=str(entry_id or s.entry_id),
                    status=s.status,
                    place=s.place,
                    dead_heat=s.dead_heat,
                    time_hundredths=s.time_hundredths,
                    gait_faults=s.gait_faults,
                    count=s.count,
                    scores=tuple(_hundredths(v) for v in s.scores or ()),
                    points=s.points,
                    reason=s.reason,
                )
            )
        missing = len(starters - seen)
        if missing and not errors:
            errors.append(
                {
                    "field": "starters",
                    "code": "starters_missing",
                    "message": f"{missing} starter(s) of the start list have no result "
                    "(give DNS for a horse that did not start).",
                }
            )
        return lines, errors

    async def declare_official(
        self, actor: Actor, race_id: str, note: str = "", *, now: dt.datetime | None = None
    ) -> ResultVersion:
        race = await reads.lock_race(self.session, race_id)
        latest = await reads.latest_version(self.session, race.id)
        if latest is None:
            raise Conflict("The race has no result yet.", code="no_result")
        if latest.status != ResultStatus.PROVISIONAL:
            raise Conflict(f"The result is {latest.status} already.", code="already_official")
        if race.id in await reads.open_objections(self.session, [race.id]):
            raise Conflict("An objection is open: decide it first.", code="objection_open")
        now = now or utcnow()
        if latest.objections_close_at is not None and now < latest.objections_close_at:
            raise Conflict(
                f"The objection window is open until {latest.objections_close_at.isoformat()}.",
                code="objection_window_open",
                objections_close_at=latest.objections_close_at.isoformat(),
            )
        version = ResultVersion(
            race_id=race.id,
            festival_id=race.festival_id,
            number=latest.number + 1,
            status=ResultStatus.OFFICIAL,
            ranked_by=latest.ranked_by,
            reason=note or f"declared official (version {latest.number})",
            recorded_by=actor.user_id,
            recorded_at=now,
            fingerprint=latest.fingerprint,
        )
        self.session.add(version)
        await self.session.flush()
        old = (await reads.rows_of(self.session, [latest.id]))[latest.id]
        rows = [
            ResultRow(
                version_id=version.id,
                race_id=r.race_id,
                entry_id=r.entry_id,
                status=r.status,
                place=r.place,
                dead_heat=r.dead_heat,
                time_hundredths=r.time_hundredths,
                gait_faults=r.gait_faults,
                count=r.count,
                scores=list(r.scores),
                score=r.score,
                points=r.points,
                reason=r.reason,
            )
            for r in old
        ]
        self.session.add_all(rows)
        await self.session.flush()
        await payouts.settle(
            self.session, race, version, rows, actor.user_id, f"official (version {version.number})"
        )
        await award_prize_list.lock_for_official_results(self.session, race.festival_id)
        notify(self.session, race.festival_id, race.id, "official")
        return version

    # --- objections -----------------------------------------------------------------------

    async def lodge(
        self,
        actor: Actor,
        race_id: str,
        data: schemas.ObjectionIn,
        *,
        now: dt.datetime | None = None,
    ) -> Objection:
        race = await reads.lock_race(self.session, race_id)
        latest = await reads.latest_version(self.session, race.id)
        if latest is None:
            raise Conflict("The race has no result to object to.", code="no_result")
        now = now or utcnow()
        if (
            latest.status == ResultStatus.PROVISIONAL
            and latest.objections_close_at is not None
            and now >= latest.objections_close_at
        ):
            raise Conflict("The objection window has closed.", code="objection_window_closed")
        entry_id = None
        if data.entry_id is not None:
            rows = (await reads.rows_of(self.session, [latest.id]))[latest.id]
            entry_id = next((r.entry_id for r in rows if str(r.entry_id) == data.entry_id), None)
            if entry_id is None:
                raise ValidationFailed(
                    [FieldError("entry_id", "Not a starter in this race.")],
                    code="horse_not_in_race",
                )
        objection = Objection(
            race_id=race.id,
            festival_id=race.festival_id,
            version_id=latest.id,
            entry_id=entry_id,
            grounds=data.grounds,
            lodged_by=actor.user_id,
            lodged_at=now,
        )
        self.session.add(objection)
        await self.session.flush()
        notify(self.session, race.festival_id, race.id, "objection")
        return objection

    async def decide(
        self, actor: Actor, objection_id: str, data: schemas.ObjectionDecisionIn
    ) -> Objection:
        found = await self.session.get(Objection, parse_id(objection_id, "objection"))
        if found is None:
            raise NotFound(f"No objection {objection_id!r}.")
        await reads.lock_race(self.session, found.race_id)
        await self.session.refresh(found)
        if found.status != ObjectionStatus.OPEN:
            raise Conflict(f"This objection was {found.status} already.", code="objection_decided")
        found.status = ObjectionStatus.UPHELD if data.upheld else ObjectionStatus.DISMISSED
        found.decision, found.decided_by, found.decided_at = data.decision, actor.user_id, utcnow()
        self.session.add(found)
        await self.session.flush()
        notify(self.session, found.festival_id, found.race_id, "objection")
        return found

    # --- reading --------------------------------------------------------------------------

    async def history(self, race_id: str, *, limit: int, offset: int) -> schemas.ResultsHistory:
        race = await reads.race(self.session, race_id)
        versions = list(
            (
                await self.session.exec(
                    select(ResultVersion)
                    .where(ResultVersion.race_id == race.id)
                    .order_by(col(ResultVersion.number))
                )
            ).all()
        )
        page = versions[offset : offset + limit]
        return schemas.ResultsHistory(
            race_id=str(race.id),
            items=await version_reads(self.session, page, {}),
            total=len(versions),
            limit=limit,
            offset=offset,
        )

    async def race_result(self, race_id: str) -> schemas.RaceResultRead:
        race = await reads.race(self.session, race_id)
        date = await registration_reads.race_date(self.session, race)
        return (await _race_reads(self.session, race.festival_id, [(race, date)]))[0]

    async def objections(self, race_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Objection]]:
        found: dict[uuid.UUID, list[Objection]] = {r: [] for r in race_ids}
        if race_ids:
            for o in (
                await self.session.exec(
                    select(Objection)
                    .where(col(Objection.race_id).in_(list(race_ids)))
                    .order_by(col(Objection.lodged_at))
                )
            ).all():
                found[o.race_id].append(o)
        return found

    async def heat_setup(self, race_id: uuid.UUID) -> HeatSetup | None:
        return await self.session.get(HeatSetup, race_id)


def objection_read(o: Objection) -> schemas.ObjectionRead:
    return schemas.ObjectionRead(
        id=str(o.id),
        race_id=str(o.race_id),
        version_id=str(o.version_id),
        entry_id=str(o.entry_id) if o.entry_id else None,
        grounds=o.grounds,
        status=o.status,
        lodged_by=str(o.lodged_by) if o.lodged_by else None,
        lodged_at=o.lodged_at,
        decided_by=str(o.decided_by) if o.decided_by else None,
        decided_at=o.decided_at,
        decision=o.decision,
    )


async def version_reads(
    session: AsyncSession, versions: Sequence[ResultVersion], prizes: dict[uuid.UUID, int]
) -> list[schemas.ResultVersionRead]:
    rows = await reads.rows_of(session, [v.id for v in versions])
    cards = await registration_reads.entry_cards(
        session, list({r.entry_id for found in rows.values() for r in found})
    )
    names = await access_services.display_names(
        session, list({v.recorded_by for v in versions if v.recorded_by})
    )
    out = []
    for v in versions:
        items = []
        for r in rows[v.id]:
            card = cards[r.entry_id]
            items.append(
                schemas.ResultRowRead(
                    entry_id=str(r.entry_id),
                    horse_id=str(card.horse_id),
                    horse_name=card.horse_name,
                    rider_name=card.rider_name,
                    owner_name=card.owner_name,
                    province=card.province,
                    status=r.status,
                    place=r.place,
                    dead_heat=r.dead_heat,
                    time_hundredths=r.time_hundredths,
                    gait_faults=r.gait_faults,
                    count=r.count,
                    scores=list(r.scores),
                    score=r.score,
                    points=r.points,
                    reason=r.reason,
                    prize_fen=prizes.get(r.entry_id, 0),
                )
            )
        out.append(
            schemas.ResultVersionRead(
                id=str(v.id),
                race_id=str(v.race_id),
                number=v.number,
                status=v.status,
                ranked_by=v.ranked_by,
                reason=v.reason,
                recorded_by=str(v.recorded_by) if v.recorded_by else None,
                recorded_by_name=names.get(v.recorded_by, "") if v.recorded_by else "",
                recorded_at=v.recorded_at,
                objections_close_at=v.objections_close_at,
                rows=items,
            )
        )
    return out


async def _race_reads(
    session: AsyncSession, festival_id: uuid.UUID, races: Sequence[tuple[Race, dt.date]]
) -> list[schemas.RaceResultRead]:
    ids = [race.id for race, _ in races]
    versions = await reads.latest_versions(session, ids)
    prizes = await payouts.prizes_by_entry(session, ids)
    version_by_id = {
        v.id: r
        for v, r in zip(
            list(versions.values()),
            await version_reads(session, list(versions.values()), prizes),
            strict=True,
        )
    }
    found = (
        (await session.exec(select(StartList).where(col(StartList.race_id).in_(ids)))).all()
        if ids
        else []
    )
    lists = await start_list_reads(session, list(found))
    objections = await ResultService(session).objections(ids)
    categories = await award_categories.category_names(session, festival_id)
    out = []
    for race, date in races:
        version = versions.get(race.id)
        category = categories.get(race.award_category_id) if race.award_category_id else None
        read = version_by_id.get(version.id) if version else None
        out.append(
            schemas.RaceResultRead(
                race_id=str(race.id),
                festival_id=str(race.festival_id),
                code=race.code,
                name_zh=race.name_zh,
                name_en=race.name_en,
                date=date,
                state=version.status if version else "scheduled",
                ranked_by=str(category.ranked_by) if category else "finish_order",
                version=read,
                start_list=lists.get(race.id),
                objections=[objection_read(o) for o in objections[race.id]],
                currency=race.currency,
                prize_fen=sum(r.prize_fen for r in read.rows) if read else 0,
            )
        )
    return out


async def festival_results(
    session: AsyncSession, festival_id: str | uuid.UUID
) -> list[schemas.RaceResultRead]:
    """Every race of the festival in running order, each with its state (``scheduled``,
    ``provisional``, ``official`` or ``amended``), start list, latest result (finishing
    order, times, statuses, each starter's prize money) and objections."""
    festival = await festival_services.FestivalService(session).get(festival_id)
    races = await registration_reads.festival_races(session, festival.id)
    return await _race_reads(session, festival.id, races)


def public_starts(result: schemas.RaceResultRead) -> schemas.RaceResultRead:
    """A race as the public sees it: an unpublished start list is not shown."""
    if result.start_list is not None and result.start_list.status == "drawn":
        return schemas.RaceResultRead(
            **{**{f: getattr(result, f) for f in result.__struct_fields__}, "start_list": None}
        )
    return result
