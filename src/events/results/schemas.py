"""Wire types of results. Times are hundredths of a second, judges' scores hundredths of a
point on the wire out (``scores`` in are decimal points, e.g. ``8.75``), money fen."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

import msgspec
from pydantic import Field

from events.results.draw import MAX_SEED
from events.results.models import (
    DrawMethod,
    JudgesRule,
    ObjectionStatus,
    SeparateBy,
    StarterResult,
    TieRule,
)
from events.schemas import Input

Reason = Annotated[str, Field(max_length=300)]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]

# --- requests ------------------------------------------------------------------------------


class DrawIn(Input):
    seed: Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)] | None = None
    method: DrawMethod = DrawMethod.RANDOM
    separate_by: SeparateBy | None = None
    max_starters: Annotated[int, Field(strict=True, ge=1, le=1000)] | None = None
    """Over-subscribed: the first this many in draw order start, the rest are reserves."""
    include_unpaid: bool = False
    """Also draw entries still owing their fee (pending payment)."""


class ScratchIn(Input):
    entry_id: str
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class StarterIn(Input):
    entry_id: str
    status: StarterResult = StarterResult.FINISHED
    place: Annotated[int, Field(strict=True, ge=1, le=1000)] | None = None
    dead_heat: bool = False
    time_hundredths: Annotated[int, Field(strict=True, ge=1, le=100 * 24 * 3600)] | None = None
    gait_faults: Count | None = None
    count: Count | None = None
    scores: list[Annotated[Decimal, Field(ge=-1000, le=1000, decimal_places=2)]] | None = None
    points: Annotated[int, Field(strict=True, ge=0, le=1_000_000)] | None = None
    reason: Reason = ""


class ResultsIn(Input):
    starters: Annotated[list[StarterIn], Field(min_length=1, max_length=1000)]
    reason: Reason = ""
    """Required for an amendment (the race is official already)."""


class OfficialIn(Input):
    note: Reason = ""


class ObjectionIn(Input):
    grounds: Annotated[str, Field(min_length=1, max_length=500)]
    entry_id: str | None = None


class ObjectionDecisionIn(Input):
    upheld: bool
    decision: Annotated[str, Field(min_length=1, max_length=500)]


class ResultsRuleIn(Input):
    objection_minutes: Annotated[int, Field(strict=True, ge=0, le=24 * 60)] = 15
    judges_rule: JudgesRule = JudgesRule.MEAN
    score_min: Annotated[Decimal, Field(ge=0, le=1000, decimal_places=2)] = Decimal(0)
    score_max: Annotated[Decimal, Field(ge=0, le=1000, decimal_places=2)] = Decimal(10)
    max_gait_faults: Count = 0


class HeatSetupIn(Input):
    heat_race_ids: Annotated[list[str], Field(min_length=1, max_length=64)]
    advance_per_heat: Annotated[int, Field(strict=True, ge=1, le=100)]
    tie_rule: TieRule = TieRule.TIME


class MarkPaidIn(Input):
    reference: Annotated[str, Field(min_length=1, max_length=200)]
    paid_at: dt.datetime | None = None


# --- responses -----------------------------------------------------------------------------


class StartPositionRead(msgspec.Struct):
    entry_id: str
    horse_id: str
    horse_name: str
    rider_name: str
    owner_name: str
    province: str
    county: str
    draw_order: int
    position: int | None
    status: str
    scratch_reason: str


class StartListEventRead(msgspec.Struct):
    kind: str
    entry_id: str | None
    detail: str
    actor_id: str | None
    at: dt.datetime


class StartListRead(msgspec.Struct):
    race_id: str
    festival_id: str
    status: str
    seed: int
    algorithm: str
    method: str
    separate_by: str | None
    separation_kept: bool
    max_starters: int | None
    include_unpaid: bool
    from_heats: bool
    draws: int
    drawn_at: dt.datetime
    published_at: dt.datetime | None
    frozen_at: dt.datetime | None
    starters: list[StartPositionRead]
    reserves: list[StartPositionRead]
    scratched: list[StartPositionRead]
    history: list[StartListEventRead]


class ResultRowRead(msgspec.Struct):
    entry_id: str
    horse_id: str
    horse_name: str
    rider_name: str
    owner_name: str
    province: str
    status: str
    place: int | None
    dead_heat: bool
    time_hundredths: int | None
    gait_faults: int | None
    count: int | None
    scores: list[int]
    score: int | None
    points: int | None
    reason: str
    prize_fen: int


class ResultVersionRead(msgspec.Struct):
    id: str
    race_id: str
    number: int
    status: str
    ranked_by: str
    reason: str
    recorded_by: str | None
    recorded_by_name: str
    recorded_at: dt.datetime
    objections_close_at: dt.datetime | None
    rows: list[ResultRowRead]


class ObjectionRead(msgspec.Struct):
    id: str
    race_id: str
    version_id: str
    entry_id: str | None
    grounds: str
    status: ObjectionStatus
    lodged_by: str | None
    lodged_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision: str


class RaceResultRead(msgspec.Struct):
    race_id: str
    festival_id: str
    code: str
    name_zh: str
    name_en: str
    date: dt.date
    state: str
    """scheduled, provisional, official or amended."""
    ranked_by: str
    version: ResultVersionRead | None
    start_list: StartListRead | None
    objections: list[ObjectionRead]
    currency: str
    prize_fen: int


class ResultsHistory(msgspec.Struct):
    race_id: str
    items: list[ResultVersionRead]
    total: int
    limit: int
    offset: int


class ResultsRuleRead(msgspec.Struct):
    category_id: str
    objection_minutes: int
    judges_rule: str
    score_min: int
    score_max: int
    max_gait_faults: int


class HeatSetupRead(msgspec.Struct):
    final_race_id: str
    heat_race_ids: list[str]
    advance_per_heat: int
    tie_rule: str


class EntitlementRead(msgspec.Struct):
    id: str
    festival_id: str
    race_id: str
    race_code: str
    award_id: str | None
    award_name: str
    category_id: str | None
    entry_id: str
    horse_id: str
    horse_name: str
    owner_id: str
    owner_name: str
    rider_name: str
    province: str
    payee: str
    place: int
    pooled_places: list[int]
    gross_fen: int
    withheld_fen: int
    net_fen: int
    currency: str
    kind: str
    replaces_id: str | None
    reason: str
    created_at: dt.datetime
    state: str
    """owed, held, paid, clawed_back (a cancelled row) or clawback (the cancelling row)."""
    paid_at: dt.datetime | None
    reference: str | None


class PayoutRead(msgspec.Struct):
    entitlement_id: str
    amount: int
    currency: str
    reference: str
    paid_at: dt.datetime
    recorded_by: str | None
    replayed: bool


class PrizeMoneyTotalsRead(msgspec.Struct):
    owed: int
    paid: int
    held: int
    currency: str


class PointsStandingRead(msgspec.Struct):
    place: int
    horse_id: str
    horse_name: str
    owner_name: str
    province: str
    points: int
    races: int


class PointsTable(msgspec.Struct):
    festival_id: str
    points_by_place: list[int]
    items: list[PointsStandingRead]
    total: int
    limit: int
    offset: int
