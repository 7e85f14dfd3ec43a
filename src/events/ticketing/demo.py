"""Demo tickets for the Dangjiren festival: enclosures, day tickets, a pass, child tickets.

The grounds hold 15,000 a day (12,000 visitors a day came in the seed year); the
grandstand 3,000 and the VIP tent 200 of them. Idempotent: a second run changes nothing.
"""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.festivals.models import Festival, FestivalDay
from events.ticketing import schemas
from events.ticketing.catalog import CatalogService
from events.ticketing.models import Enclosure

GROUND_PER_DAY = 15_000
GRANDSTAND_PER_DAY = 3_000
VIP_PER_DAY = 200

# code, zh, en, enclosure, price (fen), audience, max per order, capacity of the type
DAY_TICKETS = [
    ("ground", "草原观赛票", "General ground", "ground", 8_000, "adult", 10, None),
    ("stand", "看台票", "Grandstand", "stand", 20_000, "adult", 10, None),
    ("vip", "贵宾票", "VIP tent", "vip", 80_000, "adult", 4, None),
    (
        "child",
        "儿童票（1.2米以下免费）",
        "Child (under 1.2 m, free)",
        "ground",
        0,
        "child",
        3,
        2_000,
    ),
]


async def demo_tickets(session: AsyncSession, festival: Festival) -> list[str]:
    existing = (
        await session.exec(
            select(Enclosure.id).where(
                Enclosure.festival_id == festival.id, Enclosure.code == "ground"
            )
        )
    ).first()
    if existing is not None:
        return ["Tickets: already loaded."]
    catalog = CatalogService(session)
    fid = str(festival.id)
    ground = await catalog.create_enclosure(
        fid, schemas.EnclosureCreate(code="ground", name_zh="草原观赛区", name_en="General ground")
    )
    stand = await catalog.create_enclosure(
        fid,
        schemas.EnclosureCreate(
            code="stand", name_zh="看台", name_en="Grandstand", parent_id=ground.id
        ),
    )
    vip = await catalog.create_enclosure(
        fid,
        schemas.EnclosureCreate(
            code="vip",
            name_zh="贵宾区",
            name_en="VIP tent",
            parent_id=ground.id,
            allow_reentry=True,
        ),
    )
    enclosures = {"ground": ground.id, "stand": stand.id, "vip": vip.id}
    days = (
        await session.exec(
            select(FestivalDay)
            .where(FestivalDay.festival_id == festival.id)
            .order_by(FestivalDay.date)  # type: ignore[arg-type]
        )
    ).all()
    types = 0
    for number, day in enumerate(days, start=1):
        label = f"{day.date.month}/{day.date.day}"
        for size, scope, name in (
            (GROUND_PER_DAY, None, "Ground"),
            (GRANDSTAND_PER_DAY, stand.id, "Grandstand"),
            (VIP_PER_DAY, vip.id, "VIP"),
        ):
            await catalog.create_quota(
                fid,
                schemas.QuotaCreate(
                    name=f"{name} {day.date.isoformat()}",
                    size=size,
                    day_id=str(day.id),
                    enclosure_id=scope,
                ),
            )
        for code, zh, en, enclosure, price, audience, limit, capacity in DAY_TICKETS:
            await catalog.create_type(
                fid,
                schemas.TicketTypeCreate(
                    code=f"{code}-{day.date.isoformat()}",
                    name_zh=f"{zh} {label}",
                    name_en=f"{en} {label}",
                    enclosure_id=enclosures[enclosure],
                    day_ids=[str(day.id)],
                    price=price,
                    audience=audience,
                    max_per_order=limit,
                    capacity=capacity,
                    position=number * 10,
                ),
            )
            types += 1
    await catalog.create_type(
        fid,
        schemas.TicketTypeCreate(
            code="festival-pass",
            name_zh="全程通票（七天）",
            name_en="Festival pass (all 7 days)",
            description_zh="四月与七月赛会全部七天，草原观赛区。",
            description_en="All seven days of the April and July meetings, general ground.",
            enclosure_id=ground.id,
            day_ids=[str(d.id) for d in days],
            price=40_000,
            max_per_order=6,
            capacity=2_000,
            position=0,
        ),
    )
    return [
        f"Tickets: 3 enclosures, {types + 1} ticket types, {GROUND_PER_DAY:,} a day on "
        f"the ground ({GRANDSTAND_PER_DAY:,} grandstand, {VIP_PER_DAY} VIP)."
    ]
