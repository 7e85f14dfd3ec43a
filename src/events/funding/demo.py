"""The demo's money: the organiser's own funds, entry fees taken in cash at the desk for
demo entries (through payments, so the ledger hook posts them), ticket revenue, and
sponsors: two local businesses at 100,000 yuan each, a title sponsor naming the long race
("XX Cup"), and a motorcycle given as the horse king's prize in kind.

The figures leave the 1,252,000-yuan prize list a little short of cover, so the page shows
the warning and what is still pledged. Runs once: a festival with sponsors is left as it is.
"""

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards.categories import CategoryService
from events.awards.prizes import AwardService
from events.config import get_settings
from events.festivals.models import Festival
from events.funding import schemas
from events.funding.charts import yuan
from events.funding.models import Direction, FundingSource, SponsorTarget, SponsorTier
from events.funding.services import FundingService
from events.payments import services as payment_services
from events.registration import reads as registration_reads

YUAN = 100
CASH_ENTRIES = 60
"""Demo entries whose fee is taken in cash at the registration desk."""

LOCAL_BUSINESSES = [
    ("当雄县卡巴藏式酒店", "Kaba Tibetan Hotel, Damxung", "次仁央宗", "13908900101"),
    ("当雄县纳木错牧业有限公司", "Namtso Pastoral Co., Damxung", "格桑顿珠", "13908900102"),
]


async def demo_funding(session: AsyncSession, festival: Festival) -> list[str]:
    funding = FundingService(session)
    if await funding.sponsors(festival.id):
        summary = await funding.summary(festival.id)
        return [
            f"Funding: {len(summary.by_sponsor)} sponsors, {summary.records} ledger "
            "records (already there)."
        ]
    fid = str(festival.id)
    categories = {c.code: c for c in await CategoryService(session).categories(festival.id)}
    king = next(
        (
            a
            for a in await AwardService(session).awards(festival.id)
            if a.name_en.startswith("Horse king")
        ),
        None,
    )

    def record(
        source: FundingSource,
        amount_yuan: int,
        day: dt.date,
        reference: str,
        note: str,
        sponsor_id: str | None = None,
    ) -> schemas.RecordIn:
        return schemas.RecordIn(
            source=source,
            direction=Direction.IN,
            amount=amount_yuan * YUAN,
            occurred_on=day,
            sponsor_id=sponsor_id,
            reference=reference,
            note=note,
        )

    for n, (amount, day) in enumerate(
        ((400_000, dt.date(2027, 1, 15)), (200_000, dt.date(2027, 3, 20))), start=1
    ):
        await funding.record(
            fid,
            record(
                FundingSource.SELF_RAISED,
                amount,
                day,
                f"组委会-{n:03d}",
                "马术俱乐部自筹 / the club's own funds",
            ),
            actor_id=None,
        )

    for name_zh, name_en, contact, phone in LOCAL_BUSINESSES:
        sponsor, _ = await funding.create_sponsor(
            fid,
            schemas.SponsorIn(
                name_zh=name_zh,
                name_en=name_en,
                contact_name=contact,
                contact_phone=phone,
                tier=SponsorTier.COMMUNITY,
                pledged_fen=100_000 * YUAN,
                pledged_on=dt.date(2027, 1, 5),
                due_on=dt.date(2027, 4, 1),
                note="每年支持村里十万元 / 100,000 yuan a year for the village",
            ),
            actor_id=None,
        )
        await funding.record(
            fid,
            record(
                FundingSource.SPONSORSHIP,
                100_000,
                dt.date(2027, 3, 1),
                f"赞助-{name_en[:4]}",
                "赞助款到账 / sponsorship received",
                str(sponsor.id),
            ),
            actor_id=None,
        )

    long_race = categories.get("long-10k")
    title, _ = await funding.create_sponsor(
        fid,
        schemas.SponsorIn(
            name_zh="拉萨啤酒",
            name_en="Lhasa Beer",
            contact_name="王经理",
            contact_phone="13908900103",
            tier=SponsorTier.TITLE,
            target=SponsorTarget.CATEGORY if long_race else SponsorTarget.FESTIVAL,
            target_id=long_race.id if long_race else None,
            pledged_fen=300_000 * YUAN,
            pledged_on=dt.date(2027, 2, 1),
            due_on=dt.date(2027, 7, 1),
            note="冠名马长跑 10公里 / names the 10 km long race",
        ),
        actor_id=None,
    )
    await funding.record(
        fid,
        record(
            FundingSource.SPONSORSHIP,
            150_000,
            dt.date(2027, 4, 10),
            "赞助-拉萨啤酒-1",
            "首期 / first half",
            str(title.id),
        ),
        actor_id=None,
    )

    await funding.create_sponsor(
        fid,
        schemas.SponsorIn(
            name_zh="高原摩托车行",
            name_en="Plateau Motorcycles",
            tier=SponsorTier.IN_KIND,
            target=SponsorTarget.AWARD if king else SponsorTarget.FESTIVAL,
            target_id=king.id if king else None,
            pledged_on=dt.date(2027, 3, 1),
            in_kind=[
                schemas.InKindIn(
                    description_zh="摩托车一辆（马王奖品）",
                    description_en="A motorcycle (the horse king's prize)",
                    value_fen=12_800 * YUAN,
                    award_id=king.id if king else None,
                    received_on=dt.date(2027, 7, 15),
                )
            ],
        ),
        actor_id=None,
    )

    # Entry fees: cash at the desk for demo entries, through payments (the ledger hook).
    payments = payment_services.PaymentService(session, get_settings())
    due = await registration_reads.entries_awaiting_fee(session, festival.id, limit=CASH_ENTRIES)
    for entry_id, fee, currency in due:
        await payments.start(
            festival_id=festival.id,
            purpose=payment_services.PaymentPurpose.ENTRY_FEE,
            reference_id=entry_id,
            amount=fee,
            currency=currency,
            description="报名费（现场现金） Entry fee, cash at the desk",
            provider=payment_services.Provider.CASH,
        )

    await funding.record(
        fid,
        record(
            FundingSource.TICKET_REVENUE,
            38_600,
            dt.date(2027, 4, 30),
            "售票处-四月",
            "四月赛会现场售票 / April box office",
        ),
        actor_id=None,
    )

    summary = await funding.summary(festival.id)
    fees = next(s for s in summary.by_source if s.source == FundingSource.ENTRY_FEES)
    c = summary.coverage
    lines = [
        f"Funding: {len(summary.by_sponsor)} sponsors, {summary.records} ledger records; "
        f"{len(due)} entry fees taken in cash ({yuan(fees.net_fen)}).",
        f"  prize money committed {yuan(summary.prize_money.committed_fen)}; received "
        f"{yuan(c.income_fen)}, pledged outstanding {yuan(c.pledged_outstanding_fen)}, "
        f"in kind {yuan(c.in_kind_contributed_fen)}; covered {c.covered_bp / 100:.2f} %",
    ]
    lines += [f"  warning {w.code}: short by {yuan(w.amount_fen)}" for w in summary.warnings]
    return lines
