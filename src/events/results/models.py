"""Start lists, results versions, objections, prize entitlements and payouts.

History is append-only where it matters (STYLE habit 7):

* ``start_list_event``: every draw, publication, scratch and move-up, with who and why.
* ``result_version``: every submission, declaration and amendment is a new version with
  its own ``result_row``s; nothing is overwritten. The race's state is its latest version's.
* ``prize_entitlement``: what is owed to whom; a clawback is a new, negative row that
  references (``replaces_id``) the row it cancels, a move-up a new row that references the
  row it supersedes.
* ``prize_payout``: one per entitlement, with the payment reference.

``start_position`` is the start list's current state (who starts where); its history is in
``start_list_event``. Money is integer fen with its currency; times are UTC.
Races and entries belong to registration (``race.id``, ``entry.id``), awards to awards.
"""

import datetime as dt
import uuid
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from events.db.base import IdMixin, utc_field, utcnow


class DrawMethod(StrEnum):
    RANDOM = "random"
    SEPARATED = "separated"
    """Random, then no two horses of one county (or owner) side by side where possible."""


class SeparateBy(StrEnum):
    COUNTY = "county"
    OWNER = "owner"


class StartListStatus(StrEnum):
    DRAWN = "drawn"
    """Drawn, not yet public: may be drawn again."""
    PUBLISHED = "published"
    """Public; a change is an amendment (a scratch with its reason)."""
    FROZEN = "frozen"
    """The race has a result: the start list no longer changes."""


class PositionStatus(StrEnum):
    STARTER = "starter"
    RESERVE = "reserve"
    """Over the race's starter limit: moves up, in draw order, when a starter is scratched."""
    SCRATCHED = "scratched"


class TieRule(StrEnum):
    """How a tie at a heat's qualifying cut is settled."""

    ALL = "all"
    """Every horse tied at the cut goes through."""
    TIME = "time"
    """The faster time goes through; still tied: all go through."""
    LOT = "lot"
    """Drawn by lot with the final's draw seed (recorded)."""


class JudgesRule(StrEnum):
    MEAN = "mean"
    DROP_HIGH_LOW = "drop_high_low"
    """Drop one highest and one lowest score, then the mean (needs 3 scores or more)."""


class ResultStatus(StrEnum):
    PROVISIONAL = "provisional"
    OFFICIAL = "official"
    AMENDED = "amended"


class StarterResult(StrEnum):
    FINISHED = "finished"
    DNS = "dns"
    DNF = "dnf"
    DSQ = "dsq"


class ObjectionStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class EntitlementKind(StrEnum):
    AWARDED = "awarded"
    """Owed when the race became official."""
    MOVED_UP = "moved_up"
    """Owed after an amendment; ``replaces_id`` names the row it supersedes."""
    CLAWBACK = "clawback"
    """Cancels the row named by ``replaces_id``; its amounts are that row's, negated."""


class ResultsRule(SQLModel, table=True):
    """How an award category's races are judged and how long objections stay open.

    A category without a row uses the defaults (15 minutes, mean, scores 0-10)."""

    __tablename__ = "results_rule"

    category_id: uuid.UUID = Field(primary_key=True)
    """``award_category.id`` (awards domain); not a foreign key."""
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    objection_minutes: int = Field(default=15)
    judges_rule: JudgesRule = Field(default=JudgesRule.MEAN, sa_type=sa.String(16))
    score_min: int = Field(default=0)
    """Judges' scores, in hundredths of a point."""
    score_max: int = Field(default=1000)
    max_gait_faults: int = Field(default=0)
    """Gait-legal time: more faults than this and the starter is disqualified (走马 broke
    into a gallop)."""
    updated_at: dt.datetime = utc_field(default_factory=utcnow)


class HeatSetup(SQLModel, table=True):
    """A final fed by heats: the top ``advance_per_heat`` of each heat go through."""

    __tablename__ = "heat_setup"

    final_race_id: uuid.UUID = Field(primary_key=True, foreign_key="race.id", ondelete="CASCADE")
    heat_race_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    advance_per_heat: int
    tie_rule: TieRule = Field(default=TieRule.TIME, sa_type=sa.String(8))
    updated_at: dt.datetime = utc_field(default_factory=utcnow)


class StartList(IdMixin, table=True):
    __tablename__ = "start_list"

    race_id: uuid.UUID = Field(foreign_key="race.id", unique=True, ondelete="CASCADE")
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    seed: int = Field(sa_type=sa.BigInteger)
    algorithm: str = Field(max_length=32)
    method: DrawMethod = Field(sa_type=sa.String(12))
    separate_by: SeparateBy | None = Field(default=None, sa_type=sa.String(8))
    separation_kept: bool = Field(default=True)
    """False when the field could not be fully separated (too many of one county)."""
    max_starters: int | None = None
    include_unpaid: bool = Field(default=False)
    from_heats: bool = Field(default=False)
    status: StartListStatus = Field(default=StartListStatus.DRAWN, sa_type=sa.String(12))
    draws: int = Field(default=1)
    """How many times it was drawn (redraws before publication are logged events)."""
    drawn_at: dt.datetime = utc_field(default_factory=utcnow)
    drawn_by: uuid.UUID | None = None
    published_at: dt.datetime | None = utc_field(nullable=True, default=None)
    frozen_at: dt.datetime | None = utc_field(nullable=True, default=None)


class StartPosition(IdMixin, table=True):
    __tablename__ = "start_position"
    __table_args__ = (sa.UniqueConstraint("race_id", "entry_id"),)

    start_list_id: uuid.UUID = Field(foreign_key="start_list.id", index=True, ondelete="CASCADE")
    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    entry_id: uuid.UUID = Field(foreign_key="entry.id", index=True)
    """For a final: the horse's entry in its heat."""
    draw_order: int
    """1..N in the order drawn (reserves after starters)."""
    position: int | None = None
    """Post position / start order of a starter; None for reserves and scratched."""
    status: PositionStatus = Field(sa_type=sa.String(12))
    scratch_reason: str = Field(default="", max_length=300)
    changed_at: dt.datetime = utc_field(default_factory=utcnow)


class StartListEvent(IdMixin, table=True):
    """One thing that happened to a start list. Append-only."""

    __tablename__ = "start_list_event"

    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    """drawn, redrawn, published, frozen, scratched, moved_up."""
    entry_id: uuid.UUID | None = None
    detail: str = Field(default="", max_length=500)
    actor_id: uuid.UUID | None = None
    at: dt.datetime = utc_field(default_factory=utcnow)


class ResultVersion(IdMixin, table=True):
    """One version of a race's result. Append-only: a correction, a declaration or an
    amendment is a new version."""

    __tablename__ = "result_version"
    __table_args__ = (
        sa.UniqueConstraint("race_id", "number"),
        sa.UniqueConstraint("race_id", "idempotency_key"),
    )

    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    number: int
    status: ResultStatus = Field(sa_type=sa.String(12))
    ranked_by: str = Field(max_length=24)
    reason: str = Field(default="", max_length=500)
    recorded_by: uuid.UUID | None = None
    recorded_at: dt.datetime = utc_field(default_factory=utcnow)
    objections_close_at: dt.datetime | None = utc_field(nullable=True, default=None)
    idempotency_key: str | None = Field(default=None, max_length=255)
    fingerprint: str = Field(default="", max_length=64)


class ResultRow(IdMixin, table=True):
    __tablename__ = "result_row"
    __table_args__ = (sa.UniqueConstraint("version_id", "entry_id"),)

    version_id: uuid.UUID = Field(foreign_key="result_version.id", index=True, ondelete="CASCADE")
    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    entry_id: uuid.UUID = Field(foreign_key="entry.id")
    status: StarterResult = Field(sa_type=sa.String(8))
    place: int | None = None
    """The rank among finishers (a dead heat shares one place)."""
    dead_heat: bool = Field(default=False)
    time_hundredths: int | None = None
    gait_faults: int | None = None
    count: int | None = None
    scores: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    """Each judge's score, hundredths of a point."""
    score: int | None = None
    """The combined score by the category's rule, hundredths (rounded half up)."""
    points: int | None = None
    reason: str = Field(default="", max_length=300)


class Objection(IdMixin, table=True):
    """An objection or stewards' inquiry; while open, the race cannot be declared official
    and its prize money (if official already) is held."""

    __tablename__ = "objection"

    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    version_id: uuid.UUID = Field(foreign_key="result_version.id")
    entry_id: uuid.UUID | None = None
    """The starter objected to, if one."""
    grounds: str = Field(max_length=500)
    status: ObjectionStatus = Field(default=ObjectionStatus.OPEN, sa_type=sa.String(10))
    lodged_by: uuid.UUID | None = None
    lodged_at: dt.datetime = utc_field(default_factory=utcnow)
    decided_by: uuid.UUID | None = None
    decided_at: dt.datetime | None = utc_field(nullable=True, default=None)
    decision: str = Field(default="", max_length=500)


class PrizeEntitlement(IdMixin, table=True):
    """Prize money owed to one payee for one starter's place. Append-only."""

    __tablename__ = "prize_entitlement"
    __table_args__ = (sa.Index("ix_prize_entitlement_replaces", "replaces_id"),)

    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    race_id: uuid.UUID = Field(foreign_key="race.id", index=True, ondelete="CASCADE")
    version_id: uuid.UUID = Field(foreign_key="result_version.id")
    award_id: uuid.UUID | None = None
    """The award of the place taken (the first pooled place in a dead heat)."""
    category_id: uuid.UUID | None = None
    entry_id: uuid.UUID = Field(foreign_key="entry.id", index=True)
    horse_id: uuid.UUID
    owner_id: uuid.UUID = Field(index=True)
    rider_id: uuid.UUID
    province: str = Field(max_length=2)
    payee: str = Field(max_length=16)
    """owner, rider, trainer, stable, other."""
    place: int
    pooled_places: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    gross_fen: int = Field(sa_type=sa.BigInteger)
    withheld_fen: int = Field(default=0, sa_type=sa.BigInteger)
    net_fen: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    kind: EntitlementKind = Field(sa_type=sa.String(10))
    replaces_id: uuid.UUID | None = None
    reason: str = Field(default="", max_length=500)
    created_by: uuid.UUID | None = None
    created_at: dt.datetime = utc_field(default_factory=utcnow)


class PrizePayout(IdMixin, table=True):
    """An entitlement marked paid, with the payment reference (one per entitlement)."""

    __tablename__ = "prize_payout"

    entitlement_id: uuid.UUID = Field(foreign_key="prize_entitlement.id", unique=True)
    festival_id: uuid.UUID = Field(foreign_key="festival.id", index=True, ondelete="CASCADE")
    amount: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    reference: str = Field(max_length=200)
    paid_at: dt.datetime = utc_field()
    recorded_by: uuid.UUID | None = None
    recorded_at: dt.datetime = utc_field(default_factory=utcnow)
