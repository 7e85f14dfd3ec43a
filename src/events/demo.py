"""``events demo``: the Dangjiren festival with one user per role, through the services.

Running it again changes nothing (except, on a new date, a rehearsal day for that date:
``events.rehearsal``). Each domain adds a step to ``DEMO_STEPS``: an async function
``(session, festival) -> list of report lines`` that is idempotent itself.

The demo accounts' published passwords (``<username>-demo-2027``) exist only in ``dev`` and
``test``. In production ``events demo`` refuses unless told ``--allow-production``; then
each new account gets a fresh random password, printed once.
"""

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.models import Role
from events.access.services import UserService
from events.awards.demo import load_demo_awards
from events.config import ConfigurationError, Settings
from events.db.engine import Database
from events.festivals import schemas as festival_schemas
from events.festivals.models import Festival
from events.festivals.services import FestivalService
from events.funding.demo import demo_funding
from events.links import Links
from events.registration.demo import demo_entries
from events.rehearsal import rehearse
from events.results.demo import demo_results
from events.ticketing.demo import demo_tickets

DEMO_SLUG = "dangjiren-2027"
DEMO_PASSWORD_SUFFIX = "-demo-2027"  # noqa: S105 - demo accounts, printed on purpose

DemoStep = Callable[[AsyncSession, Festival], Awaitable[list[str]]]
DEMO_STEPS: list[DemoStep] = [
    load_demo_awards,
    demo_entries,
    demo_tickets,
    demo_results,
    demo_funding,
]

DEMO_USERS = [
    ("organiser", Role.ORGANISER, "Demo organiser 组委会"),
    ("official", Role.OFFICIAL, "Demo race official 裁判"),
    ("gate", Role.GATE, "Demo gate staff 检票员"),
    ("owner", Role.OWNER, "Demo horse owner 马主"),
]


def _days(start: dt.date, count: int, label_zh: str, label_en: str) -> list[festival_schemas.DayIn]:
    return [
        festival_schemas.DayIn(
            date=start + dt.timedelta(days=i),
            name_zh=f"{label_zh}第{i + 1}天",
            name_en=f"{label_en} day {i + 1}",
        )
        for i in range(count)
    ]


DEMO_FESTIVAL = festival_schemas.FestivalCreate(
    slug=DEMO_SLUG,
    name_zh="2027年当雄当吉仁赛马节",
    name_en="Damxung Dangjiren Horse-Racing Festival 2027",
    timezone="Asia/Shanghai",
    currency="CNY",
    venue_zh="西藏拉萨市当雄县卡巴草原",
    venue_en="Kaba grassland, Damxung county, Lhasa, Tibet (about 4,300 m)",
    description_zh="国家级非物质文化遗产当吉仁赛马节：四月与七月两届赛会，共七天。",
    description_en="National intangible cultural heritage: the April and July meetings, "
    "seven days in all.",
    meetings=[
        festival_schemas.MeetingIn(
            name_zh="四月赛会",
            name_en="April meeting",
            days=_days(dt.date(2027, 4, 28), 3, "四月赛会", "April"),
        ),
        festival_schemas.MeetingIn(
            name_zh="七月赛会",
            name_en="July meeting",
            days=_days(dt.date(2027, 7, 20), 4, "七月赛会", "July"),
        ),
    ],
    gates=[
        festival_schemas.GateIn(code="north", name_zh="北门", name_en="North gate"),
        festival_schemas.GateIn(code="east", name_zh="东门", name_en="East gate"),
        festival_schemas.GateIn(code="grandstand", name_zh="看台门", name_en="Grandstand gate"),
    ],
)


async def _ensure_festival(session: AsyncSession) -> tuple[Festival, bool]:
    festivals = FestivalService(session)
    existing = await festivals.get_by_slug(DEMO_SLUG)
    if existing is not None:
        return existing, False
    return await festivals.create(DEMO_FESTIVAL), True


def demo_password(settings: Settings, username: str) -> str:
    """The published demo password in dev and test; a fresh random one elsewhere."""
    if settings.env in ("dev", "test"):
        return username + DEMO_PASSWORD_SUFFIX
    return secrets.token_urlsafe(12)


async def _ensure_users(session: AsyncSession, settings: Settings) -> list[str]:
    users = UserService(session)
    lines = ["Demo users (username / password):"]
    for username, role, display in DEMO_USERS:
        created = await users.get_by_username(username) is None
        if created:
            password = demo_password(settings, username)
            await users.create(
                username=username, password=password, role=role, display_name=display
            )
            lines.append(f"  {role.value:<10} {username} / {password}")
        elif settings.env in ("dev", "test"):
            lines.append(
                f"  {role.value:<10} {username} / {username + DEMO_PASSWORD_SUFFIX}"
                "  (already there)"
            )
        else:
            lines.append(f"  {role.value:<10} {username}  (already there; password unchanged)")
    return lines


async def load_demo(settings: Settings, *, allow_production: bool = False) -> list[str]:
    if settings.env == "production" and not allow_production:
        raise ConfigurationError(
            "events demo loads demo accounts: it runs in EVENTS_ENV=dev or test. To load the "
            "demo into a production database anyway, add --allow-production (the accounts "
            "then get fresh random passwords, printed once)."
        )
    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            festival, created = await _ensure_festival(session)
            report = [
                f"Festival {festival.name_en} ({festival.id}) "
                f"{'created' if created else 'already loaded'}."
            ]
            report += await _ensure_users(session, settings)
            for step in DEMO_STEPS:
                report += await step(session, festival)
            report += await rehearse(session, festival, settings, Links.for_settings(settings))
        return report
    finally:
        await database.dispose()
