"""The live results document of a festival: what the public sees, and nothing more.

Built from the results domain's own reads (``festival_results`` as the public sees it,
``points_standings``) into a lean shape, because it is sent to every phone and to the
livestream: each race with its state, its published start list or its finishing order,
and the standings by province and the "horse king" points table. Start lists not yet
published are not shown; officials' notes, seeds' history and objections' text stay in the
officials' routes.
"""

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from events.funding import services as funding
from events.live.feed import Document
from events.registration import provinces
from events.registration import reads as registration_reads
from events.results import schemas as results_schemas
from events.results import services as results

FINISHED = "finished"


def _province(code: str) -> dict[str, str]:
    found = provinces.BY_CODE.get(code)
    return {
        "province": code,
        "province_zh": found.zh if found else code,
        "province_en": found.en if found else code,
    }


def _start_list(start_list: results_schemas.StartListRead | None) -> dict[str, Any] | None:
    if start_list is None:
        return None
    return {
        "status": start_list.status,
        "seed": start_list.seed,
        "algorithm": start_list.algorithm,
        "published_at": start_list.published_at,
        "starters": [
            {
                "position": s.position,
                "draw_order": s.draw_order,
                "horse": s.horse_name,
                "rider": s.rider_name,
                **_province(s.province),
                "county": s.county,
                "status": s.status,
            }
            for s in start_list.starters
        ],
        "scratched": [
            {"horse": s.horse_name, "reason": s.scratch_reason} for s in start_list.scratched
        ],
    }


def race_document(race: results_schemas.RaceResultRead) -> dict[str, Any]:
    """One race as the public sees it."""
    version = race.version
    rows = version.rows if version else []
    start_list = _start_list(race.start_list)
    return {
        "race_id": race.race_id,
        "code": race.code,
        "name_zh": race.name_zh,
        "name_en": race.name_en,
        "date": race.date,
        "state": race.state,
        "ranked_by": race.ranked_by,
        "currency": race.currency,
        "prize_fen": race.prize_fen,
        "version": version.number if version else 0,
        "amended_reason": version.reason if version and race.state == "amended" else "",
        "objections_open": sum(1 for o in race.objections if o.status == "open"),
        "start_list": (start_list["starters"] if start_list else []),
        "draw": (
            {k: start_list[k] for k in ("seed", "algorithm", "published_at")}
            if start_list
            else None
        ),
        "scratched": start_list["scratched"] if start_list else [],
        "results": [
            {
                "place": r.place,
                "dead_heat": r.dead_heat,
                "horse": r.horse_name,
                "rider": r.rider_name,
                **_province(r.province),
                "status": r.status,
                "reason": r.reason if r.status == "dsq" else "",
                "time_hundredths": r.time_hundredths,
                "gait_faults": r.gait_faults,
                "count": r.count,
                "score": r.score,
                "points": r.points,
                "prize": r.prize_fen,
            }
            for r in rows
        ],
        "sponsor": None,
    }


def _provinces(races: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wins and prize money by province over the official (or amended) races."""
    table: dict[str, dict[str, Any]] = {}
    for race in races:
        if race["state"] not in ("official", "amended"):
            continue
        for row in race["results"]:
            if row["status"] != FINISHED:
                continue
            line = table.setdefault(
                row["province"], {**_province(row["province"]), "wins": 0, "places": 0, "prize": 0}
            )
            line["wins"] += row["place"] == 1
            line["places"] += 1
            line["prize"] += row["prize"]
    return sorted(table.values(), key=lambda p: (-p["wins"], -p["prize"], p["province"]))


async def build_document(session: AsyncSession, festival_id: uuid.UUID) -> Document:
    """The festival's live results; ``NotFound`` for an unknown festival."""
    races = [
        race_document(results.public_starts(race))
        for race in await results.festival_results(session, festival_id)
    ]
    categories = {
        str(race.id): race.award_category_id
        for race, _ in await registration_reads.festival_races(session, festival_id)
    }
    sponsors = await funding.sponsor_names_for(session, festival_id)
    for race in races:
        category = categories.get(race["race_id"])
        named = sponsors.get(category) if category else None
        if named is not None:
            race["sponsor"] = {"name_zh": named.cup_zh, "name_en": named.cup_en}
    points = await results.points_standings(session, festival_id)
    return {
        "festival_id": festival_id,
        "items": races,
        "total": len(races),
        "limit": len(races),
        "offset": 0,
        "standings": {
            "provinces": _provinces(races),
            "points": [
                {
                    "place": p.place,
                    "horse": p.horse_name,
                    "owner": p.owner_name,
                    "province": p.province,
                    "points": p.points,
                    "races": p.races,
                }
                for p in points[:20]
            ],
        },
    }
