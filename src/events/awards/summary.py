"""A prize list's summary: counts, totals, extremes and flags, from its rows alone.

Pure, so that a dry-run import can show the summary the import would produce. Amounts are
fen and count an award's whole value (prize money + declared value of a prize in kind).
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise

from events.awards import allocation, schemas
from events.awards.models import Award, AwardCategory, PrizeList, PrizeListStatus
from events.festivals.models import Festival
from events.money import amount_text


def withholding_rule(prize_list: PrizeList | None) -> allocation.WithholdingRule:
    if prize_list is None:
        return allocation.WithholdingRule()
    return allocation.WithholdingRule(
        enabled=prize_list.withholding_enabled,
        rate_bp=prize_list.withholding_rate_bp,
        threshold_fen=prize_list.withholding_threshold_fen,
    )


def build_summary(
    festival: Festival,
    prize_list: PrizeList | None,
    categories: Sequence[AwardCategory],
    awards: Sequence[Award],
) -> schemas.PrizeSummary:
    """Counts, totals, extremes and flags of a prize list (amounts: fen, award value)."""
    by_category: dict[uuid.UUID, list[Award]] = defaultdict(list)
    for award in awards:
        by_category[award.category_id].append(award)
    flags: list[schemas.SummaryFlag] = []
    subtotals = []
    for category in categories:
        own = by_category.get(category.id, [])
        values = [a.prize_fen + a.in_kind_value_fen for a in own]
        table = [
            a.prize_fen + a.in_kind_value_fen
            for a in sorted((a for a in own if a.place is not None), key=lambda a: a.place or 0)
        ]
        monotonic = allocation.is_monotonic(table)
        own_flags = []
        if not monotonic:
            own_flags.append("non_monotonic")
            jumps = [i + 2 for i, (a, b) in enumerate(pairwise(table)) if b > a]
            flags.append(
                schemas.SummaryFlag(
                    code="non_monotonic",
                    category_id=str(category.id),
                    category_code=category.code,
                    detail=f"{category.code}: place(s) {', '.join(map(str, jumps))} pay more than "
                    "the place before (allowed, e.g. a traditional lucky 13th).",
                )
            )
        if not own:
            own_flags.append("empty_category")
            flags.append(
                schemas.SummaryFlag(
                    code="empty_category",
                    category_id=str(category.id),
                    category_code=category.code,
                    detail=f"{category.code} has no awards.",
                )
            )
        subtotals.append(
            schemas.CategorySubtotal(
                category_id=str(category.id),
                code=category.code,
                name_zh=category.name_zh,
                name_en=category.name_en,
                ranked_by=category.ranked_by,
                sponsor_label_zh=category.sponsor_label_zh,
                sponsor_label_en=category.sponsor_label_en,
                awards=len(own),
                places=len(table),
                special_awards=len(own) - len(table),
                total_prize=sum(values),
                min_prize=min(values, default=None),
                max_prize=max(values, default=None),
                monotonic=monotonic,
                flags=own_flags,
            )
        )
    foreign = sorted({a.currency for a in awards} - {festival.currency})
    if foreign:
        flags.append(
            schemas.SummaryFlag(
                code="currency_mismatch",
                detail=f"Some awards are in {', '.join(foreign)}, the festival in "
                f"{festival.currency}.",
            )
        )
    values = [a.prize_fen + a.in_kind_value_fen for a in awards]
    rule = withholding_rule(prize_list)
    total, low, high = sum(values), min(values, default=None), max(values, default=None)
    return schemas.PrizeSummary(
        festival_id=str(festival.id),
        currency=festival.currency,
        status=prize_list.status if prize_list else PrizeListStatus.DRAFT,
        categories=len(categories),
        awards=len(awards),
        total_prize=total,
        min_prize=low,
        max_prize=high,
        total_cash_fen=sum(a.prize_fen for a in awards),
        total_in_kind_value_fen=sum(a.in_kind_value_fen for a in awards),
        total_prize_yuan=amount_text(total),
        min_prize_yuan=None if low is None else amount_text(low),
        max_prize_yuan=None if high is None else amount_text(high),
        amounts_unit="fen",
        withholding=schemas.WithholdingRead(
            enabled=rule.enabled,
            rate_bp=rule.rate_bp,
            threshold_fen=rule.threshold_fen,
            withheld_if_paid_as_listed_fen=sum(rule.withheld_fen(a.prize_fen) for a in awards),
        ),
        dead_heat_remainder_rule=allocation.REMAINDER_RULE,
        by_category=subtotals,
        flags=flags,
    )
