"""Entries as a spreadsheet for the race office: CSV (UTF-8 with BOM, for Excel on Chinese
Windows) and XLSX. Money is given in fen (exact) and in yuan (for reading)."""

from collections.abc import Sequence
from typing import Any

from events.money import amount_text
from events.registration import provinces
from events.spreadsheets import Sheet, csv_bytes, safe_cell, xlsx_bytes

HEADERS = [
    ("entry_id", "报名编号"),
    ("race_code", "比赛代码"),
    ("race", "比赛"),
    ("race_date", "比赛日期"),
    ("status", "状态"),
    ("waitlist_position", "候补序号"),
    ("source", "来源"),
    ("owner", "马主"),
    ("owner_mobile", "手机号"),
    ("province", "省份"),
    ("county", "县"),
    ("township", "乡镇"),
    ("horse", "马名"),
    ("horse_name_en", "马名(英文)"),
    ("sex", "性别"),
    ("birth_year", "出生年份"),
    ("colour", "毛色"),
    ("height_cm", "肩高(cm)"),
    ("microchip", "芯片号"),
    ("passport_number", "护照号"),
    ("rider", "骑手"),
    ("rider_birth_date", "骑手出生日期"),
    ("guardian_consent", "监护人同意"),
    ("fee_due_fen", "应缴(分)"),
    ("fee_due_yuan", "应缴(元)"),
    ("amount_paid_fen", "已缴(分)"),
    ("amount_refunded_fen", "已退(分)"),
    ("currency", "币种"),
    ("entered_at", "报名时间"),
]


_cell = safe_cell
"""Text typed by the public never runs as a spreadsheet formula (csv_bytes and xlsx_bytes
make every cell safe again; doing it here keeps ``export_rows`` safe on its own)."""


def export_rows(rows: Sequence[Any]) -> list[list[Any]]:
    """One line per entry; ``rows`` are (entry, race, date, horse, rider, owner)."""
    lines = []
    for entry, race, date, horse, rider, owner in rows:
        lines.append(
            [
                _cell(v)
                for v in (
                    str(entry.id),
                    race.code,
                    f"{race.name_zh} / {race.name_en}",
                    date.isoformat(),
                    entry.status,
                    entry.waitlist_position or "",
                    entry.source,
                    owner.name,
                    owner.mobile,
                    provinces.zh_name(entry.province),
                    entry.county,
                    owner.township,
                    horse.name_zh,
                    horse.name_en,
                    horse.sex,
                    horse.birth_year,
                    horse.colour,
                    horse.height_cm,
                    horse.microchip or "",
                    horse.passport_number or "",
                    rider.name,
                    rider.birth_date.isoformat(),
                    "是" if rider.guardian_consent else "",
                    entry.fee_due,
                    amount_text(entry.fee_due, entry.currency),
                    entry.amount_paid,
                    entry.amount_refunded,
                    entry.currency,
                    entry.created_at.isoformat(timespec="seconds"),
                )
            ]
        )
    return lines


def to_csv(rows: Sequence[Any]) -> bytes:
    return csv_bytes([f"{zh} {en}" for en, zh in HEADERS], export_rows(rows))


def to_xlsx(rows: Sequence[Any]) -> bytes:
    return xlsx_bytes(
        Sheet("报名 Entries", [f"{zh} {en}" for en, zh in HEADERS], export_rows(rows))
    )
