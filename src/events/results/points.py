"""Points across races: the festival's horse king (马王) table.

Each horse's points over the festival's official (or amended) races, by a points-by-place
table (default 10, 8, 6, 5, 4, 3, 2, 1). A dead heat pools and splits the points of the
places it occupies, exactly like prize money (``awards.allocation``, rounded down). A
provisional race adds nothing yet.
"""

import uuid
from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import allocation
from events.errors import FieldError, ValidationFailed
from events.festivals import services as festival_services
from events.registration import reads as registration_reads
from events.results import reads, schemas
from events.results.models import ResultStatus

DEFAULT_POINTS = (10, 8, 6, 5, 4, 3, 2, 1)
"""Points by place in each counted race; a dead heat pools and splits them like prizes."""


def parse_points(text: str | None) -> tuple[int, ...]:
    """``"10,8,6"`` → (10, 8, 6); None → the default table."""
    if text is None:
        return DEFAULT_POINTS
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or any(v < 0 or v > 10_000 for v in values) or len(values) > 100:
        raise ValidationFailed(
            [
                FieldError(
                    "points",
                    "Points by place: whole numbers 0-10000, comma separated, e.g. 10,8,6.",
                )
            ]
        )
    return values


async def points_standings(
    session: AsyncSession,
    festival_id: str | uuid.UUID,
    *,
    category_ids: Sequence[uuid.UUID] = (),
    points: Sequence[int] = DEFAULT_POINTS,
) -> list[schemas.PointsStandingRead]:
    """Each horse's points over the festival's official (or amended) races of the given
    categories (all when none given), ranked: the table a POINTS award is decided by.
    Only official results count; a provisional race adds nothing yet."""
    festival = await festival_services.FestivalService(session).get(festival_id)
    races = [
        race
        for race, _ in await registration_reads.festival_races(session, festival.id)
        if not category_ids or race.award_category_id in set(category_ids)
    ]
    versions = {
        r: v
        for r, v in (await reads.latest_versions(session, [race.id for race in races])).items()
        if v.status != ResultStatus.PROVISIONAL
    }
    rows = await reads.rows_of(session, [v.id for v in versions.values()])
    table = dict(enumerate(points, start=1))
    totals: dict[uuid.UUID, list[int]] = {}
    for version in versions.values():
        found = rows[version.id]
        shares = allocation.allocate(
            table,
            [
                allocation.Starter(
                    starter_id=str(r.entry_id),
                    position=r.place,
                    status=allocation.StarterStatus(r.status),
                )
                for r in found
            ],
        )
        for prize in shares.prizes:
            entry = totals.setdefault(uuid.UUID(prize.starter_id), [0, 0])
            entry[0] += prize.prize_fen
            entry[1] += 1
    cards = await registration_reads.entry_cards(session, list(totals))
    by_horse: dict[uuid.UUID, tuple[registration_reads.EntryCard, int, int]] = {}
    for entry_id, (value, count) in totals.items():
        card = cards[entry_id]
        _, before, races_run = by_horse.get(card.horse_id, (card, 0, 0))
        by_horse[card.horse_id] = (card, before + value, races_run + count)
    ordered = sorted(by_horse.values(), key=lambda t: (-t[1], t[0].horse_name))
    out: list[schemas.PointsStandingRead] = []
    for n, (card, value, races_run) in enumerate(ordered):
        place = out[-1].place if out and out[-1].points == value else n + 1
        out.append(
            schemas.PointsStandingRead(
                place=place,
                horse_id=str(card.horse_id),
                horse_name=card.horse_name,
                owner_name=card.owner_name,
                province=card.province,
                points=value,
                races=races_run,
            )
        )
    return out
