"""The funding ledger as CSV and XLSX (``events.spreadsheets``), every record with its
links, and on the XLSX a second sheet with the totals per source."""

from collections.abc import Sequence

from events.funding import schemas
from events.funding.models import Direction, FundingRecord
from events.spreadsheets import Sheet, csv_bytes, xlsx_bytes

HEADER = (
    "record_id",
    "occurred_on",
    "source",
    "direction",
    "amount_fen",
    "signed_fen",
    "currency",
    "origin",
    "sponsor_id",
    "sponsor",
    "payment_id",
    "award_id",
    "entitlement_id",
    "reverses_id",
    "reference",
    "note",
    "recorded_by",
    "recorded_at",
)


def _rows(records: Sequence[FundingRecord], sponsors: dict[str, str]) -> list[list[object]]:
    def text(value: object) -> str:
        return "" if value is None else str(value)

    return [
        [
            str(r.id),
            r.occurred_on.isoformat(),
            r.source,
            r.direction,
            r.amount,
            r.amount if r.direction == Direction.IN else -r.amount,
            r.currency,
            r.origin,
            text(r.sponsor_id),
            sponsors.get(text(r.sponsor_id), ""),
            text(r.payment_id),
            text(r.award_id),
            text(r.entitlement_id),
            text(r.reverses_id),
            r.reference,
            r.note,
            text(r.recorded_by),
            r.recorded_at.replace(tzinfo=None).isoformat(" "),
        ]
        for r in records
    ]


def ledger_csv(records: Sequence[FundingRecord], sponsors: dict[str, str]) -> bytes:
    return csv_bytes(HEADER, _rows(records, sponsors))


def ledger_xlsx(
    records: Sequence[FundingRecord], sponsors: dict[str, str], summary: schemas.FundingSummary
) -> bytes:
    rows = _rows(records, sponsors)
    for row, record in zip(rows, records, strict=True):  # a real date for Excel
        row[17] = record.recorded_at.replace(tzinfo=None)
    totals = [
        [s.source, s.received_fen, s.paid_out_fen, s.net_fen, s.records] for s in summary.by_source
    ]
    totals.append(
        ["total", summary.received_fen, summary.paid_out_fen, summary.balance_fen, summary.records]
    )
    return xlsx_bytes(
        Sheet("Ledger 账目", HEADER, rows, date_columns=(17,)),
        Sheet(
            "By source 按来源",
            ("source", "received_fen", "paid_out_fen", "net_fen", "records"),
            totals,
        ),
    )
