"""Results and prize money as CSV and XLSX (``events.spreadsheets``): amounts in yuan with
two decimals (exact, from fen), times as seconds with hundredths."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from events.money import amount_text
from events.results import schemas
from events.spreadsheets import Row, Sheet, csv_bytes, xlsx_bytes

RESULT_HEADER = (
    "race_code",
    "race_zh",
    "race_en",
    "date",
    "state",
    "version",
    "place",
    "dead_heat",
    "horse",
    "rider",
    "owner",
    "province",
    "status",
    "time_s",
    "gait_faults",
    "count",
    "score",
    "points",
    "reason",
    "prize_yuan",
)
PRIZE_HEADER = (
    "entitlement_id",
    "race_code",
    "award",
    "place",
    "pooled_places",
    "horse",
    "owner",
    "rider",
    "province",
    "payee",
    "gross_yuan",
    "withheld_yuan",
    "net_yuan",
    "currency",
    "kind",
    "state",
    "replaces_id",
    "paid_at",
    "reference",
    "reason",
)
GROUPS = ("award", "horse", "owner", "province")


def _seconds(hundredths: int | None) -> str:
    return "" if hundredths is None else f"{hundredths // 100}.{hundredths % 100:02d}"


def result_rows(races: Sequence[schemas.RaceResultRead]) -> list[Row]:
    rows: list[Row] = []
    for race in races:
        if race.version is None:
            rows.append(
                (
                    race.code,
                    race.name_zh,
                    race.name_en,
                    race.date.isoformat(),
                    race.state,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )
            continue
        for r in race.version.rows:
            rows.append(
                (
                    race.code,
                    race.name_zh,
                    race.name_en,
                    race.date.isoformat(),
                    race.state,
                    race.version.number,
                    r.place or "",
                    "yes" if r.dead_heat else "",
                    r.horse_name,
                    r.rider_name,
                    r.owner_name,
                    r.province,
                    r.status,
                    _seconds(r.time_hundredths),
                    "" if r.gait_faults is None else r.gait_faults,
                    "" if r.count is None else r.count,
                    "" if r.score is None else _seconds(r.score),
                    "" if r.points is None else r.points,
                    r.reason,
                    amount_text(r.prize_fen),
                )
            )
    return rows


def results_csv(races: Sequence[schemas.RaceResultRead]) -> bytes:
    return csv_bytes(RESULT_HEADER, result_rows(races))


def results_xlsx(races: Sequence[schemas.RaceResultRead]) -> bytes:
    return xlsx_bytes(Sheet("results", RESULT_HEADER, result_rows(races)))


def prize_rows(items: Sequence[schemas.EntitlementRead]) -> list[Row]:
    return [
        (
            i.id,
            i.race_code,
            i.award_name,
            i.place,
            "+".join(str(p) for p in i.pooled_places),
            i.horse_name,
            i.owner_name,
            i.rider_name,
            i.province,
            i.payee,
            amount_text(i.gross_fen),
            amount_text(i.withheld_fen),
            amount_text(i.net_fen),
            i.currency,
            i.kind,
            i.state,
            i.replaces_id or "",
            i.paid_at.isoformat() if i.paid_at else "",
            i.reference or "",
            i.reason,
        )
        for i in items
    ]


def grouped(items: Sequence[schemas.EntitlementRead], by: str) -> tuple[Row, list[Row]]:
    """Current prize money (owed, held and paid; clawbacks net out) per award, horse,
    owner or province: net owed, paid and still to pay, in yuan."""
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for i in items:
        key: tuple[Any, ...] = {
            "award": (i.race_code, i.award_name),
            "horse": (i.horse_name, i.horse_id),
            "owner": (i.owner_name, i.owner_id),
            "province": (i.province,),
        }[by]
        if i.state in ("clawback", "clawed_back"):
            continue
        totals[key][0] += i.net_fen
        if i.state == "paid":
            totals[key][1] += i.net_fen
        else:
            totals[key][2] += i.net_fen
    header = {
        "award": ("race_code", "award"),
        "horse": ("horse", "horse_id"),
        "owner": ("owner", "owner_id"),
        "province": ("province",),
    }[by]
    rows: list[Row] = [
        (*key, amount_text(net), amount_text(paid), amount_text(open_))
        for key, (net, paid, open_) in sorted(totals.items())
    ]
    return (*header, "net_yuan", "paid_yuan", "unpaid_yuan"), rows


def prize_csv(items: Sequence[schemas.EntitlementRead], group: str | None) -> bytes:
    if group is None:
        return csv_bytes(PRIZE_HEADER, prize_rows(items))
    header, rows = grouped(items, group)
    return csv_bytes(header, rows)


def prize_xlsx(items: Sequence[schemas.EntitlementRead]) -> bytes:
    sheets = [Sheet("entitlements", PRIZE_HEADER, prize_rows(items))]
    for by in GROUPS:
        header, rows = grouped(items, by)
        sheets.append(Sheet(f"by {by}", header, rows))
    return xlsx_bytes(*sheets)
