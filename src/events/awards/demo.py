"""The demo prize list: the illustrative 10 categories and 131 awards of DOMAIN.md
(research/racing.md §3.4), 1,252,000 yuan in all, 2,000 to 80,000 yuan per award.

Loaded through the same JSON import as an organiser's file.
"""

import json
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from events.awards import importing
from events.awards.categories import CategoryService
from events.awards.models import RankingMethod
from events.awards.prize_list import PrizeListService
from events.festivals.models import Festival

K = 1000 * 100  # a thousand yuan, in fen


def _times(amount: int, count: int) -> list[int]:
    return [amount] * count


MID_RACE = [50 * K, 30 * K, 20 * K, 15 * K, 10 * K, 8 * K, *_times(5 * K, 4), *_times(3 * K, 5)]
KHATA = [20 * K, 15 * K, 10 * K, *_times(5 * K, 3), *_times(3 * K, 4)]

# (code, 中文, English, ranked by, prize table in fen by place)
PLACE_CATEGORIES: list[tuple[str, str, str, RankingMethod, list[int]]] = [
    (
        "long-10k",
        "马长跑 10公里（公开组）",
        "Long race 10 km (open)",
        RankingMethod.FINISH_ORDER,
        [
            80 * K,
            50 * K,
            40 * K,
            30 * K,
            20 * K,
            15 * K,
            *_times(10 * K, 4),
            *_times(5 * K, 5),
            *_times(3 * K, 5),
        ],
    ),
    ("mid-5k", "马中跑 5公里", "Mid race 5 km", RankingMethod.FINISH_ORDER, MID_RACE),
    (
        "short-3k",
        "马短跑 3公里",
        "Short race 3 km",
        RankingMethod.FINISH_ORDER,
        [40 * K, 25 * K, 15 * K, 10 * K, 8 * K, 6 * K, *_times(4 * K, 4), *_times(2 * K, 5)],
    ),
    (
        "pacing-large-10k",
        "走马（肩高1.38米以上）10公里",
        "Pacing race (走马) over 1.38 m, 10 km",
        RankingMethod.GAIT_LEGAL_TIME,
        MID_RACE,
    ),
    (
        "pacing-local-8k",
        "走马 本地马（肩高1.38米及以下）8公里",
        "Pacing race, local horses up to 1.38 m, 8 km",
        RankingMethod.GAIT_LEGAL_TIME,
        [30 * K, 20 * K, 15 * K, 10 * K, 8 * K, 5 * K, *_times(3 * K, 4)],
    ),
    (
        "youth-5k",
        "少年骑手速度赛 5公里",
        "Youth-rider speed race 5 km",
        RankingMethod.TIME,
        [20 * K, 15 * K, 10 * K, 8 * K, 5 * K, 3 * K, *_times(2 * K, 4)],
    ),
    ("khata", "马上拾哈达", "Picking up khata at a gallop", RankingMethod.COUNT, KHATA),
    ("archery", "跑马射箭", "Horseback archery", RankingMethod.COUNT, KHATA),
    (
        "yak",
        "赛牦牛",
        "Yak race",
        RankingMethod.FINISH_ORDER,
        [10 * K, 8 * K, 6 * K, 4 * K, 3 * K, *_times(2 * K, 5)],
    ),
]

# (中文, English, decided by, prize in fen, how many): 117,000 yuan in 16 awards.
SPECIAL_AWARDS: list[tuple[str, str, RankingMethod, int, int]] = [
    (
        "马王（长跑、中跑、短跑、走马积分）",
        "Horse king (points across categories 1-5)",
        RankingMethod.POINTS,
        50 * K,
        1,
    ),
    ("冠军骑手奖", "Champion rider", RankingMethod.POINTS, 10 * K, 1),
    ("最佳马主奖", "Best owner", RankingMethod.POINTS, 10 * K, 1),
    ("最佳马匹形象奖", "Best horse presentation", RankingMethod.JUDGES_SCORE, 5 * K, 3),
    ("最佳状态奖（兽医评定）", "Best condition (vet panel)", RankingMethod.JUDGES_SCORE, 5 * K, 3),
    (
        "最佳装扮马匹奖",
        "Best turned-out horse (braids and ornaments)",
        RankingMethod.JUDGES_SCORE,
        3 * K,
        3,
    ),
    ("体育道德风尚奖", "Sportsmanship", RankingMethod.JUDGES_SCORE, 2 * K, 4),
]

LONG_RACE_RIDER_SHARE = 10 * K  # the champion's 80,000 yuan, of which 10,000 to the rider


def demo_prize_list() -> dict[str, Any]:
    """The prize list as an import document (amounts in fen)."""
    categories: list[dict[str, Any]] = []
    awards: list[dict[str, Any]] = []
    for order, (code, zh, en, ranked_by, table) in enumerate(PLACE_CATEGORIES, start=1):
        categories.append(
            {
                "code": code,
                "name_zh": zh,
                "name_en": en,
                "ranked_by": ranked_by.value,
                "display_order": order,
            }
        )
        for place, prize in enumerate(table, start=1):
            award: dict[str, Any] = {"category": code, "place": place, "prize_fen": prize}
            if code == "long-10k" and place == 1:
                award["payee_shares"] = [{"payee": "rider", "amount_fen": LONG_RACE_RIDER_SHARE}]
            awards.append(award)
    categories.append(
        {
            "code": "special",
            "name_zh": "特别奖",
            "name_en": "Special awards",
            "ranked_by": RankingMethod.JUDGES_SCORE.value,
            "display_order": len(PLACE_CATEGORIES) + 1,
        }
    )
    for zh, en, ranked_by, prize, count in SPECIAL_AWARDS:
        awards += [
            {
                "category": "special",
                "name_zh": zh,
                "name_en": en,
                "ranked_by": ranked_by.value,
                "prize_fen": prize,
            }
        ] * count
    return {"categories": categories, "awards": awards}


async def load_demo_awards(session: AsyncSession, festival: Festival) -> list[str]:
    """Demo step: the illustrative prize list, once (a festival with categories is left
    as it is)."""
    awards = PrizeListService(session)
    if await CategoryService(session).categories(festival.id):
        summary = await awards.summary(festival.id)
        return [
            f"Awards: {summary.categories} categories, {summary.awards} awards (already there)."
        ]
    parsed = importing.parse_json(json.dumps(demo_prize_list()).encode())
    report = await awards.import_prize_list(festival.id, parsed, dry_run=False)
    s = report.summary
    return [
        f"Awards: {s.categories} categories, {s.awards} awards, "
        f"{s.total_prize // 100:,} yuan in all ({(s.min_prize or 0) // 100:,} to "
        f"{(s.max_prize or 0) // 100:,} per award)."
    ]
