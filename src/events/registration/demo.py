"""Demo: the nine race categories of the Dangjiren table and 616 entries from 22 provinces.

Deterministic (one seeded random generator), idempotent (races are found by code; the
delegations' entries are imported once), and fast: the entries go through the same bulk
import a delegation's spreadsheet does, with the clock fixed inside the entry windows.
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role, User
from events.awards.categories import CategoryService
from events.festivals.models import Festival, FestivalDay
from events.registration import schemas
from events.registration.common import Actor
from events.registration.horses import HorseService
from events.registration.importing import EntryImport, RawRow
from events.registration.models import Entry, EntrySource, Horse, Owner, Race, Rider
from events.registration.races import RaceService

SEED = 2027
DEMO_NOW = dt.datetime(2027, 3, 1, 4, 0, tzinfo=dt.UTC)
"""The demo's delegations enter on 1 March 2027 (inside every entry window)."""
OPENS = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class DemoRace:
    code: str
    name_zh: str
    name_en: str
    date: dt.date
    distance_m: int
    field_size: int
    applicants: int
    """How many entries the demo delegations send (more than the field: a waiting list)."""
    fee_yuan: tuple[int, int, int]
    """Registration, start and late fee in yuan."""
    rules: dict[str, Any]


APRIL, JULY = dt.date(2027, 4, 28), dt.date(2027, 7, 20)
RACES = (
    DemoRace(
        "long-10k",
        "马长跑 10公里（公开组）",
        "Long race 10 km (open)",
        JULY + dt.timedelta(3),
        10_000,
        120,
        128,
        (200, 300, 100),
        {"age_min": 4, "age_max": 20},
    ),
    DemoRace(
        "mid-5k",
        "马中跑 5公里",
        "Mid race 5 km",
        JULY + dt.timedelta(2),
        5_000,
        100,
        96,
        (150, 250, 100),
        {"age_min": 3, "age_max": 20},
    ),
    DemoRace(
        "short-3k",
        "马短跑 3公里",
        "Short race 3 km",
        JULY + dt.timedelta(1),
        3_000,
        100,
        96,
        (100, 200, 50),
        {"age_min": 3, "age_max": 20},
    ),
    DemoRace(
        "pacing-large-10k",
        "走马 大个组（1.38米以上）10公里",
        "Pacing race, over 1.38 m, 10 km",
        JULY,
        10_000,
        80,
        76,
        (200, 300, 100),
        {"height_min_cm": 139, "age_min": 5},
    ),
    DemoRace(
        "pacing-local-8k",
        "走马 本地马（1.38米及以下）8公里",
        "Pacing race, local horses up to 1.38 m, 8 km",
        APRIL + dt.timedelta(1),
        8_000,
        60,
        56,
        (100, 200, 50),
        {"height_max_cm": 138, "local_provinces": ["XZ"], "max_per_county": 10},
    ),
    DemoRace(
        "youth-5k",
        "青少年骑手速度赛 5公里",
        "Youth-rider speed race 5 km",
        APRIL,
        5_000,
        60,
        56,
        (50, 100, 50),
        {"rider_min_age": 8, "rider_max_age": 17, "age_min": 4},
    ),
    DemoRace(
        "khata",
        "马上拾哈达",
        "Picking up khata at a gallop",
        APRIL + dt.timedelta(2),
        200,
        40,
        36,
        (100, 100, 50),
        {"age_min": 4},
    ),
    DemoRace(
        "archery",
        "跑马射箭",
        "Horseback archery",
        JULY + dt.timedelta(1),
        300,
        40,
        36,
        (100, 100, 50),
        {"age_min": 4},
    ),
    DemoRace("yak", "赛牦牛", "Yak race", APRIL, 300, 40, 36, (50, 50, 0), {}),
)

# (province code, weight, counties). Xizang sends most; 22 provinces in all.
DELEGATIONS = (
    (
        "XZ",
        30,
        (
            "当雄县",
            "那曲市色尼区",
            "嘉黎县",
            "比如县",
            "索县",
            "班戈县",
            "尼木县",
            "墨竹工卡县",
            "林周县",
            "堆龙德庆区",
        ),
    ),
    ("SC", 12, ("理塘县", "甘孜县", "色达县", "若尔盖县", "红原县")),
    ("QH", 10, ("玉树市", "称多县", "河南蒙古族自治县", "祁连县")),
    ("GS", 9, ("玛曲县", "碌曲县", "天祝藏族自治县", "山丹县")),
    ("YN", 5, ("香格里拉市", "德钦县")),
    ("NM", 6, ("锡林浩特市", "阿巴嘎旗", "乌审旗")),
    ("XJ", 6, ("昭苏县", "伊宁县", "巴里坤县")),
    ("NX", 2, ("固原市原州区",)),
    ("SN", 2, ("榆林市榆阳区",)),
    ("HE", 2, ("张北县", "围场县")),
    ("BJ", 1, ("延庆区",)),
    ("SD", 1, ("济南市历城区",)),
    ("HL", 2, ("五大连池市",)),
    ("JL", 1, ("通榆县",)),
    ("LN", 1, ("彰武县",)),
    ("SX", 1, ("右玉县",)),
    ("GZ", 1, ("威宁县",)),
    ("GX", 1, ("百色市右江区",)),
    ("HA", 1, ("郑州市中牟县",)),
    ("HB", 1, ("武汉市黄陂区",)),
    ("CQ", 1, ("武隆区",)),
    ("SH", 1, ("松江区",)),
)

_TIBETAN = (
    "扎西",
    "次仁",
    "达瓦",
    "尼玛",
    "多吉",
    "卓玛",
    "央金",
    "格桑",
    "平措",
    "旺堆",
    "索朗",
    "顿珠",
    "拉巴",
    "普布",
    "边巴",
    "白玛",
    "罗布",
    "德吉",
    "洛桑",
    "强巴",
)
_HAN_FAMILY = "王李张刘陈杨赵黄周吴马孙朱胡郭何高林罗郑"
_HAN_GIVEN = (
    "建国",
    "志强",
    "海军",
    "秀英",
    "桂兰",
    "德明",
    "永福",
    "国庆",
    "春生",
    "玉梅",
    "文华",
    "晓东",
    "福祥",
    "长青",
    "金山",
)
_MONGOL = ("巴特尔", "额尔德尼", "苏和", "朝鲁", "敖登", "乌力吉", "图雅", "宝音")
_UYGHUR = ("阿不都", "买买提", "艾力", "热合曼", "吐尔逊", "依明")
_HORSE_FIRST = (
    "追风",
    "雪域",
    "草原",
    "闪电",
    "金",
    "银",
    "飞",
    "神",
    "白",
    "黑",
    "青",
    "赤",
    "玉",
    "铁",
    "格桑",
    "吉祥",
)
_HORSE_SECOND = ("龙", "鹰", "驹", "骢", "豹", "星", "云", "雪", "箭", "影", "虎", "狮", "风", "霞")
_COLOURS = ("枣红", "青", "黑", "栗", "白", "海骝", "银鬃", "黄骠")
_MARKINGS = ("", "", "额星", "白鼻", "四蹄白", "流星", "左后白")


def _person(rng: random.Random, province: str) -> str:
    if province in ("XZ", "QH", "SC", "GS", "YN"):
        return rng.choice(_TIBETAN) + rng.choice(_TIBETAN)
    if province == "NM":
        return rng.choice(_MONGOL)
    if province == "XJ":
        return rng.choice(_UYGHUR) + "·" + rng.choice(_UYGHUR)
    return rng.choice(_HAN_FAMILY) + rng.choice(_HAN_GIVEN)


def delegation_rows() -> list[RawRow]:
    """One spreadsheet row per entry, the same every time."""
    rng = random.Random(SEED)
    provinces = [code for code, weight, _ in DELEGATIONS for _ in range(weight)]
    counties = {code: names for code, _, names in DELEGATIONS}
    slots = [race for race in RACES for _ in range(race.applicants)]
    rng.shuffle(slots)
    # Local pacing horses come from Xizang; the other races draw from every delegation, and
    # every delegation sends at least one horse.
    must = [code for code, _, _ in DELEGATIONS]
    used_mobiles: set[str] = set()
    rows: list[RawRow] = []
    owner: dict[str, Any] = {}
    owner_left = 0
    names_taken: set[str] = set()
    county_turn = 0
    for number, race in enumerate(slots, start=2):
        if owner_left == 0:
            province = must.pop() if must else rng.choice(provinces)
            if race.code == "pacing-local-8k":
                province = "XZ"
            if province == "XZ":
                county = counties["XZ"][county_turn % len(counties["XZ"])]
                county_turn += 1
            else:
                county = rng.choice(counties[province])
            while (mobile := f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}") in used_mobiles:
                pass
            used_mobiles.add(mobile)
            owner = {
                "owner_name": _person(rng, province),
                "owner_mobile": mobile,
                "province": province,
                "county": county,
                "township": "",
            }
            owner_left = rng.choice((1, 1, 2, 2, 3, 4))
            names_taken = set()
        if race.code == "pacing-local-8k" and owner["province"] != "XZ":
            owner = {
                **owner,
                "province": "XZ",
                "county": counties["XZ"][county_turn % 10],
                "owner_mobile": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
                "owner_name": _person(rng, "XZ"),
            }
            county_turn += 1
            while owner["owner_mobile"] in used_mobiles:
                owner["owner_mobile"] = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            used_mobiles.add(owner["owner_mobile"])
            names_taken = set()
        owner_left -= 1
        while (name := rng.choice(_HORSE_FIRST) + rng.choice(_HORSE_SECOND)) in names_taken:
            pass
        names_taken.add(name)
        yak = race.code == "yak"
        rules = race.rules
        height = rng.randint(
            rules.get("height_min_cm", 118 if yak else 125),
            rules.get("height_max_cm", 138 if yak else 148),
        )
        youth = race.code == "youth-5k"
        born = (
            dt.date(rng.randint(2011, 2016), rng.randint(1, 12), rng.randint(1, 28))
            if youth
            else dt.date(rng.randint(1970, 2004), rng.randint(1, 12), rng.randint(1, 28))
        )
        chip = f"156{rng.randrange(10**12):012d}" if rng.random() < 0.7 and not yak else ""
        rows.append(
            RawRow(
                number,
                {
                    **owner,
                    "horse_name": ("牦牛" if yak else "") + name,
                    "species": "牦牛" if yak else "马",
                    "sex": rng.choice(("公马", "骟马", "母马")),
                    "birth_year": rng.randint(2012, 2022),
                    "colour": rng.choice(_COLOURS),
                    "markings": rng.choice(_MARKINGS),
                    "breed": "牦牛" if yak else "藏马",
                    "height_cm": height,
                    "microchip": chip,
                    "rider_name": _person(rng, owner["province"]),
                    "rider_birth_date": born.isoformat(),
                    "guardian_consent": "是" if youth else "",
                    "race": race.code,
                },
            )
        )
    return rows


def _race_in(race: DemoRace, day_id: str, category_id: str | None) -> schemas.RaceIn:
    registration, start, late = race.fee_yuan
    closes = dt.datetime.combine(race.date - dt.timedelta(days=14), dt.time(16), tzinfo=dt.UTC)
    return schemas.RaceIn(
        day_id=day_id,
        code=race.code,
        name_zh=race.name_zh,
        name_en=race.name_en,
        award_category_id=category_id,
        species="yak" if race.code == "yak" else "horse",
        distance_m=race.distance_m,
        field_size=race.field_size,
        entries_open_at=OPENS,
        entries_close_at=closes,
        late_close_at=closes + dt.timedelta(days=7),
        registration_fee=registration * 100,
        start_fee=start * 100,
        late_fee=late * 100,
        **race.rules,
    )


async def _ensure_races(session: AsyncSession, festival: Festival) -> int:
    days = {
        day.date: day
        for day in (
            await session.exec(select(FestivalDay).where(FestivalDay.festival_id == festival.id))
        ).all()
    }
    existing = set(
        (await session.exec(select(col(Race.code)).where(Race.festival_id == festival.id))).all()
    )
    # The awards demo (an earlier step) has a category of the same code for each race.
    categories = {c.code: str(c.id) for c in await CategoryService(session).categories(festival.id)}
    created = 0
    for race in RACES:
        if race.code in existing or race.date not in days:
            continue
        await RaceService(session).create(
            str(festival.id), _race_in(race, str(days[race.date].id), categories.get(race.code))
        )
        created += 1
    return created


async def _ensure_demo_owner(session: AsyncSession) -> bool:
    """The demo 'owner' account gets a profile, a rider and two horses (once)."""
    user = (await session.exec(select(User).where(User.username == "owner"))).first()
    if user is None or user.role != Role.OWNER:
        return False
    if (await session.exec(select(Owner.id).where(Owner.user_id == user.id))).first():
        return False
    owner = Owner(
        user_id=user.id,
        name="旺堆",
        mobile="13800002027",
        province="XZ",
        county="当雄县",
        township="当曲卡镇",
    )
    session.add(owner)
    await session.flush()
    session.add(Rider(owner_id=owner.id, name="次仁多吉", birth_date=dt.date(1996, 4, 2)))
    actor = Actor(user_id=user.id, role=Role.OWNER)
    horses = HorseService(session)
    for name_zh, name_en, year, height in (
        ("当雄追风", "Damxung Wind", 2019, 136),
        ("纳木错白云", "Namtso Cloud", 2017, 141),
    ):
        await horses.create(
            actor,
            schemas.HorseIn(
                name_zh=name_zh,
                name_en=name_en,
                sex="gelding",
                birth_year=year,
                height_cm=height,
                colour="枣红",
                breed="藏马",
                microchip=None,
            ),
        )
    return True


async def demo_entries(session: AsyncSession, festival: Festival) -> list[str]:
    """The demo step: races of the nine categories, then the delegations' entries."""
    races = await _ensure_races(session, festival)
    imported = (
        await session.exec(
            select(func.count())
            .select_from(Entry)
            .where(Entry.festival_id == festival.id, Entry.source == EntrySource.IMPORT)
        )
    ).one()
    lines = [
        f"Registration: {races} races created" if races else "Registration: races already there"
    ]
    if imported:
        lines.append(f"  {imported} imported entries already there")
    else:
        report = await EntryImport(session).run_rows(
            festival.id, delegation_rows(), dry_run=False, now=DEMO_NOW
        )
        by_province = Counter(row.values["province"] for row in delegation_rows())
        lines.append(
            f"  imported {report.created.entries} entries ({report.waiting} waiting), "
            f"{report.created.horses} horses, {report.created.owners} owners from "
            f"{len(by_province)} provinces"
        )
    if await _ensure_demo_owner(session):
        lines.append("  demo owner 'owner' has a profile, a rider and two horses")
    horses = (await session.exec(select(func.count()).select_from(Horse))).one()
    lines.append(f"  {horses} horses registered in all")
    return lines
