"""Wire types of awards. Every amount is integer fen (``*_fen``, or the API contract's
``total_prize`` / ``min_prize`` / ``max_prize``, also fen) with its ``currency``; the
``*_yuan`` strings are for display only."""

import datetime as dt
from typing import Annotated

import msgspec
from pydantic import Field

from events.awards.allocation import StarterStatus
from events.awards.models import LockReason, Payee, PrizeListStatus, RankingMethod
from events.schemas import Input

MAX_FEN = 10**12  # ten billion yuan: far above any prize, far below a 64-bit overflow

Name = Annotated[str, Field(min_length=1, max_length=200)]
OptionalName = Annotated[str, Field(max_length=200)]
CategoryCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Short code, unique in the festival, e.g. long-10k",
    ),
]
Place = Annotated[int, Field(strict=True, ge=1, le=1000)]
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN, description="Amount in fen")]
PositiveFen = Annotated[int, Field(strict=True, ge=1, le=MAX_FEN, description="Amount in fen")]
BasisPoints = Annotated[
    int, Field(strict=True, ge=0, le=10_000, description="Basis points: 2000 = 20 %")
]
DisplayOrder = Annotated[int, Field(strict=True, ge=1, le=10_000)]

FenOut = Annotated[int, msgspec.Meta(description="Amount in fen (1 yuan = 100 fen)")]
OptionalFenOut = Annotated[
    int | None, msgspec.Meta(description="Amount in fen; null when there are no awards")
]


# --- Requests ------------------------------------------------------------------------------


class CategoryCreate(Input):
    code: CategoryCode
    name_zh: Name
    name_en: Name
    ranked_by: RankingMethod
    display_order: DisplayOrder | None = Field(
        default=None, description="Position in lists; default: after the last category"
    )
    sponsor_label_zh: OptionalName | None = Field(
        default=None, description="Sponsor naming, e.g. 某某杯"
    )
    sponsor_label_en: OptionalName | None = Field(
        default=None, description="Sponsor naming, e.g. XX Cup"
    )


class CategoryUpdate(Input):
    """Only the fields sent are changed; send null to clear a sponsor label."""

    code: CategoryCode | None = None
    name_zh: Name | None = None
    name_en: Name | None = None
    ranked_by: RankingMethod | None = None
    display_order: DisplayOrder | None = None
    sponsor_label_zh: OptionalName | None = None
    sponsor_label_en: OptionalName | None = None


class PayeeShareIn(Input):
    payee: Payee
    amount_fen: PositiveFen


class AwardFields(Input):
    name_zh: OptionalName = ""
    name_en: OptionalName = ""
    ranked_by: RankingMethod | None = Field(
        default=None, description="Only when decided differently from the category"
    )
    prize_fen: Fen = Field(default=0, description="Prize money in fen")
    in_kind_zh: OptionalName = Field(default="", description="Prize in kind, e.g. 马鞍一副")
    in_kind_en: OptionalName = ""
    in_kind_value_fen: Fen = Field(
        default=0, description="Declared value of the prize in kind, in fen"
    )
    payee_shares: Annotated[list[PayeeShareIn], Field(max_length=len(Payee))] = Field(
        default=[],
        description="Fixed parts of the prize money for others than the owner; "
        "the owner receives the rest",
    )


class AwardCreate(AwardFields):
    category_id: str
    place: Place | None = Field(
        default=None, description="1..N; leave out for a named special award"
    )


class AwardUpdate(Input):
    """Only the fields sent are changed. ``payee_shares`` replaces the whole split. The
    place is changed by deleting and adding, or by importing the category again."""

    name_zh: OptionalName | None = None
    name_en: OptionalName | None = None
    ranked_by: RankingMethod | None = None
    prize_fen: Fen | None = None
    in_kind_zh: OptionalName | None = None
    in_kind_en: OptionalName | None = None
    in_kind_value_fen: Fen | None = None
    payee_shares: Annotated[list[PayeeShareIn], Field(max_length=len(Payee))] | None = None


class ImportAward(AwardFields):
    category: CategoryCode
    place: Place | None = None


class PrizeListSettingsUpdate(Input):
    withholding_enabled: bool | None = None
    withholding_rate_bp: BasisPoints | None = None
    withholding_threshold_fen: Fen | None = Field(
        default=None, description="Prizes of this many fen or more are subject to it"
    )


class StarterIn(Input):
    starter_id: Annotated[str, Field(min_length=1, max_length=64)]
    status: StarterStatus = StarterStatus.FINISHED
    position: Annotated[int, Field(strict=True, ge=1, le=10_000)] | None = Field(
        default=None, description="Finish position; tied starters share one"
    )


class AllocationRequest(Input):
    starters: Annotated[list[StarterIn], Field(min_length=1, max_length=1000)]


# --- Responses -----------------------------------------------------------------------------


class CategoryRead(msgspec.Struct):
    id: str
    festival_id: str
    code: str
    name_zh: str
    name_en: str
    ranked_by: RankingMethod
    display_order: int
    sponsor_label_zh: str | None
    sponsor_label_en: str | None
    awards: int
    total_prize: FenOut
    currency: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PayeeShareRead(msgspec.Struct):
    payee: Payee
    amount_fen: FenOut


class AwardRead(msgspec.Struct):
    id: str
    festival_id: str
    category_id: str
    category_code: str
    place: int | None
    position: int
    name_zh: str
    name_en: str
    ranked_by: RankingMethod | None
    prize_fen: FenOut
    currency: str
    in_kind_zh: str
    in_kind_en: str
    in_kind_value_fen: FenOut
    value_fen: Annotated[int, msgspec.Meta(description="prize_fen + in_kind_value_fen")]
    payee_shares: list[PayeeShareRead]
    owner_share_fen: Annotated[
        int,
        msgspec.Meta(description="What is left of prize_fen for the owner after the payee shares"),
    ]
    created_at: dt.datetime
    updated_at: dt.datetime


class SummaryFlag(msgspec.Struct):
    code: Annotated[
        str, msgspec.Meta(description="non_monotonic, empty_category or currency_mismatch")
    ]
    detail: str
    category_id: str | None = None
    category_code: str | None = None


class CategorySubtotal(msgspec.Struct):
    category_id: str
    code: str
    name_zh: str
    name_en: str
    ranked_by: RankingMethod
    sponsor_label_zh: str | None
    sponsor_label_en: str | None
    awards: int
    places: int
    special_awards: int
    total_prize: FenOut
    min_prize: OptionalFenOut
    max_prize: OptionalFenOut
    monotonic: Annotated[
        bool, msgspec.Meta(description="False when some place pays more than the place before it")
    ]
    flags: list[str]


class WithholdingRead(msgspec.Struct):
    enabled: bool
    rate_bp: int
    threshold_fen: FenOut
    withheld_if_paid_as_listed_fen: Annotated[
        int,
        msgspec.Meta(description="Withholding on every cash prize as listed (before dead heats)"),
    ]


class PrizeSummary(msgspec.Struct):
    """``total_prize``, ``min_prize`` and ``max_prize`` are fen and count an award's whole
    value: prize money plus the declared value of a prize in kind."""

    festival_id: str
    currency: str
    status: PrizeListStatus
    categories: int
    awards: int
    total_prize: FenOut
    min_prize: OptionalFenOut
    max_prize: OptionalFenOut
    total_cash_fen: FenOut
    total_in_kind_value_fen: FenOut
    total_prize_yuan: str
    min_prize_yuan: str | None
    max_prize_yuan: str | None
    amounts_unit: str
    withholding: WithholdingRead
    dead_heat_remainder_rule: str
    by_category: list[CategorySubtotal]
    flags: list[SummaryFlag]


class PrizeListRead(msgspec.Struct):
    festival_id: str
    status: PrizeListStatus
    published_at: dt.datetime | None
    locked_at: dt.datetime | None
    lock_reason: LockReason | None
    withholding_enabled: bool
    withholding_rate_bp: int
    withholding_threshold_fen: FenOut
    updated_at: dt.datetime | None


class ImportReport(msgspec.Struct):
    """What an import did (or, on a dry run, would do); ``summary`` is the prize list after
    it (as it would be)."""

    dry_run: bool
    stored: Annotated[bool, msgspec.Meta(description="False for a dry run")]
    format: str
    rows: int
    categories_created: list[str]
    categories_updated: list[str]
    awards_created: int
    awards_replaced: Annotated[
        int, msgspec.Meta(description="Awards removed from the categories in the file and replaced")
    ]
    summary: PrizeSummary


class StarterPrizeRead(msgspec.Struct):
    starter_id: str
    status: StarterStatus
    place: int | None
    pooled_places: list[int]
    tied_with: int
    prize_fen: FenOut
    withheld_fen: FenOut
    net_fen: FenOut


class AllocationRead(msgspec.Struct):
    category_id: str
    currency: str
    table_total_fen: FenOut
    awarded_fen: FenOut
    undistributed_fen: Annotated[
        int,
        msgspec.Meta(
            description="Fen a dead-heat split could not share equally; kept by the organiser"
        ),
    ]
    unawarded_fen: FenOut
    unawarded_places: list[int]
    remainder_rule: str
    starters: list[StarterPrizeRead]
