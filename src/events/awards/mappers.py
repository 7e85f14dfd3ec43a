"""Awards' models to their response schemas, one function per response type."""

from collections.abc import Sequence

from events.awards import schemas
from events.awards.models import Award, AwardCategory, AwardPayeeShare, PrizeList
from events.festivals.models import Festival


def award_read(
    award: Award, category_code: str, shares: Sequence[AwardPayeeShare]
) -> schemas.AwardRead:
    shared = sum(s.amount_fen for s in shares)
    return schemas.AwardRead(
        id=str(award.id),
        festival_id=str(award.festival_id),
        category_id=str(award.category_id),
        category_code=category_code,
        place=award.place,
        position=award.position,
        name_zh=award.name_zh,
        name_en=award.name_en,
        ranked_by=award.ranked_by,
        prize_fen=award.prize_fen,
        currency=award.currency,
        in_kind_zh=award.in_kind_zh,
        in_kind_en=award.in_kind_en,
        in_kind_value_fen=award.in_kind_value_fen,
        value_fen=award.prize_fen + award.in_kind_value_fen,
        payee_shares=[
            schemas.PayeeShareRead(payee=s.payee, amount_fen=s.amount_fen) for s in shares
        ],
        owner_share_fen=award.prize_fen - shared,
        created_at=award.created_at,
        updated_at=award.updated_at,
    )


def category_read(
    category: AwardCategory, currency: str, awards: int, total: int
) -> schemas.CategoryRead:
    return schemas.CategoryRead(
        id=str(category.id),
        festival_id=str(category.festival_id),
        code=category.code,
        name_zh=category.name_zh,
        name_en=category.name_en,
        ranked_by=category.ranked_by,
        display_order=category.display_order,
        sponsor_label_zh=category.sponsor_label_zh,
        sponsor_label_en=category.sponsor_label_en,
        awards=awards,
        total_prize=total,
        currency=currency,
        created_at=category.created_at,
        updated_at=category.updated_at,
    )


def prize_list_read(festival: Festival, row: PrizeList | None) -> schemas.PrizeListRead:
    row = row or PrizeList(festival_id=festival.id)
    return schemas.PrizeListRead(
        festival_id=str(festival.id),
        status=row.status,
        published_at=row.published_at,
        locked_at=row.locked_at,
        lock_reason=row.lock_reason,
        withholding_enabled=row.withholding_enabled,
        withholding_rate_bp=row.withholding_rate_bp,
        withholding_threshold_fen=row.withholding_threshold_fen,
        updated_at=row.updated_at,
    )
