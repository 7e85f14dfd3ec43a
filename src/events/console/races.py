"""Races: the list with windows, places and fees; add and edit a race (window, fees,
eligibility). Each form calls ``RaceService.create``/``update``, as the API does."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import organiser_only
from events.access.models import Role
from events.console.forms import Form, FormState, check_version, parse, version_of
from events.console.layout import NavItem, add_nav, festival_page
from events.console.values import fen_input, local_to_utc, to_fen, utc_to_local, words, yuan
from events.errors import DomainError
from events.festivals import services as festival_services
from events.registration import schemas
from events.registration.models import Race
from events.registration.services import RaceService
from events.web.i18n import register

add_nav(
    NavItem(
        "console.nav.races", "/console/festivals/{festival}/races", (Role.ORGANISER,), position=40
    )
)

TIMES = ("entries_open_at", "entries_close_at", "late_close_at")
MONEY = ("registration_fee", "start_fee", "late_fee")
NUMBERS = (
    "distance_m",
    "field_size",
    "age_min",
    "age_max",
    "height_min_cm",
    "height_max_cm",
    "rider_min_age",
    "rider_max_age",
    "max_per_county",
)
LISTS = ("local_provinces", "local_counties")
TEXTS = ("code", "name_zh", "name_en", "day_id", "species", "age_reference_date")
RENAME = {f"{name}.{i}": name for name in LISTS for i in range(100)}


def race_values(data: dict[str, str], timezone: str, *, keep_blank: bool) -> dict[str, Any]:
    """The form's fields as a ``RaceIn``/``RaceUpdate`` takes them. Blank fields are left
    out (``keep_blank``: sent as ``None``, which clears an optional rule on edit)."""
    values: dict[str, Any] = {}
    for name in (*TEXTS, *NUMBERS, *MONEY, *TIMES):
        raw = (data.get(name) or "").strip()
        if name in MONEY:
            value: Any = to_fen(raw)
        elif name in TIMES:
            value = local_to_utc(raw, timezone)
        else:
            value = raw or None
        if value is None and not keep_blank:
            continue
        values[name] = value
    for name in LISTS:
        values[name] = words(data.get(name))
    if keep_blank:
        values.pop("code", None)  # a race's code is its name in imports: never edited
        values.pop("species", None)
    return values


def form_of(race: Race, timezone: str) -> FormState:
    values: dict[str, Any] = {
        name: ("" if getattr(race, name) is None else str(getattr(race, name)))
        for name in (*TEXTS, *NUMBERS)
    }
    values.update({name: fen_input(getattr(race, name)) for name in MONEY})
    values.update({name: utc_to_local(getattr(race, name), timezone) for name in TIMES})
    values.update({name: ", ".join(getattr(race, name) or []) for name in LISTS})
    values["version"] = version_of(race.updated_at)
    return FormState(values=values)


class ConsoleRaceController(Controller):
    include_in_schema = False
    path = "/festivals/{festival_id:str}/races"

    async def _page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        festival_id: str,
        template: str,
        *,
        status: int = 200,
        **context: Any,
    ) -> Response[Any]:
        festival = await festival_services.FestivalService(session).read(festival_id)
        days = [
            (d.id, f"{d.date} {d.name_zh or d.name_en}") for m in festival.meetings for d in m.days
        ]
        return await festival_page(
            request, session, festival_id, template, status=status, days=days, yuan=yuan, **context
        )

    @get(
        operation_id="ConsoleRaceList", summary="A festival's races (page)", guards=[organiser_only]
    )
    async def races(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        races = await RaceService(db_session).of_festival(festival_id)
        return await self._page(
            request,
            db_session,
            festival_id,
            "races/list.html",
            races=races,
            form=FormState.of(species="horse"),
        )

    @post(operation_id="ConsoleRaceCreate", summary="Add a race (form)", guards=[organiser_only])
    async def create(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        try:
            body = parse(schemas.RaceIn, race_values(data, festival.timezone, keep_blank=False))
            await RaceService(db_session).create(festival_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            races = await RaceService(db_session).of_festival(festival_id)
            return await self._page(
                request,
                db_session,
                festival_id,
                "races/list.html",
                status=422,
                races=races,
                form=FormState.failed(data, exc, fields=RENAME),
            )
        return Redirect(f"/console/festivals/{festival_id}/races", status_code=303)

    @get(
        "/{race_id:str}",
        operation_id="ConsoleRaceEdit",
        summary="Edit a race (page)",
        guards=[organiser_only],
    )
    async def edit(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        race_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        race = await RaceService(db_session).get(race_id)
        return await self._page(
            request,
            db_session,
            festival_id,
            "races/edit.html",
            race=race,
            form=form_of(race, festival.timezone),
        )

    @post(
        "/{race_id:str}",
        operation_id="ConsoleRaceUpdate",
        summary="Save a race (form)",
        guards=[organiser_only],
    )
    async def update(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        race_id: FromPath[str],
        data: Form,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        festival = await festival_services.FestivalService(db_session).get(festival_id)
        races = RaceService(db_session)
        race = await races.get(race_id)
        try:
            check_version(data.get("version"), race.updated_at)
            body = parse(schemas.RaceUpdate, race_values(data, festival.timezone, keep_blank=True))
            await races.update(race_id, body)
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            race = await races.get(race_id)
            return await self._page(
                request,
                db_session,
                festival_id,
                "races/edit.html",
                status=422 if not isinstance(exc, DomainError) else exc.status_code,
                race=race,
                form=FormState.failed(data, exc, fields=RENAME),
            )
        return Redirect(f"/console/festivals/{festival_id}/races", status_code=303)


register(
    {
        "zh": {
            "console.nav.races": "赛事",
            "console.races.title": "赛事",
            "console.races.add": "新增赛事",
            "console.races.edit": "编辑赛事",
            "console.races.code": "代码",
            "console.races.name_zh": "中文名称",
            "console.races.name_en": "英文名称",
            "console.races.day": "比赛日",
            "console.races.species": "类别",
            "console.races.species.horse": "马",
            "console.races.species.yak": "牦牛",
            "console.races.distance_m": "距离（米）",
            "console.races.field_size": "名额",
            "console.races.entered": "已报",
            "console.races.places_left": "剩余",
            "console.races.waiting": "候补",
            "console.races.window": "报名窗口",
            "console.races.window.not_open": "未开始",
            "console.races.window.open": "报名中",
            "console.races.window.late": "补报中",
            "console.races.window.closed": "已截止",
            "console.races.entries_open_at": "报名开始",
            "console.races.entries_close_at": "报名截止",
            "console.races.late_close_at": "补报截止",
            "console.races.fees": "费用（元）",
            "console.races.registration_fee": "报名费（元）",
            "console.races.start_fee": "参赛费（元）",
            "console.races.late_fee": "补报费（元）",
            "console.races.eligibility": "参赛条件",
            "console.races.age_min": "马龄下限",
            "console.races.age_max": "马龄上限",
            "console.races.age_reference_date": "马龄计算日",
            "console.races.height_min_cm": "体高下限（厘米）",
            "console.races.height_max_cm": "体高上限（厘米）",
            "console.races.rider_min_age": "骑手年龄下限",
            "console.races.rider_max_age": "骑手年龄上限",
            "console.races.max_per_county": "每县最多",
            "console.races.local_provinces": "限产地省份（逗号分隔）",
            "console.races.local_counties": "限马主所在县（逗号分隔）",
            "console.races.times_hint": "活动当地时间",
            "console.races.actions": "操作",
            "console.races.entries": "报名",
        },
        "en": {
            "console.nav.races": "Races",
            "console.races.title": "Races",
            "console.races.add": "Add a race",
            "console.races.edit": "Edit the race",
            "console.races.code": "Code",
            "console.races.name_zh": "Name (Chinese)",
            "console.races.name_en": "Name (English)",
            "console.races.day": "Day",
            "console.races.species": "Species",
            "console.races.species.horse": "Horse",
            "console.races.species.yak": "Yak",
            "console.races.distance_m": "Distance (m)",
            "console.races.field_size": "Field size",
            "console.races.entered": "Entered",
            "console.races.places_left": "Left",
            "console.races.waiting": "Waiting",
            "console.races.window": "Entries",
            "console.races.window.not_open": "not open",
            "console.races.window.open": "open",
            "console.races.window.late": "late entries",
            "console.races.window.closed": "closed",
            "console.races.entries_open_at": "Entries open",
            "console.races.entries_close_at": "Entries close",
            "console.races.late_close_at": "Late entries close",
            "console.races.fees": "Fees (yuan)",
            "console.races.registration_fee": "Registration fee (yuan)",
            "console.races.start_fee": "Start fee (yuan)",
            "console.races.late_fee": "Late fee (yuan)",
            "console.races.eligibility": "Eligibility",
            "console.races.age_min": "Minimum horse age",
            "console.races.age_max": "Maximum horse age",
            "console.races.age_reference_date": "Ages as of",
            "console.races.height_min_cm": "Minimum height (cm)",
            "console.races.height_max_cm": "Maximum height (cm)",
            "console.races.rider_min_age": "Minimum rider age",
            "console.races.rider_max_age": "Maximum rider age",
            "console.races.max_per_county": "At most per county",
            "console.races.local_provinces": "Local horses only: provinces (commas)",
            "console.races.local_counties": "Local owners only: counties (commas)",
            "console.races.times_hint": "the festival's local time",
            "console.races.actions": "Actions",
            "console.races.entries": "Entries",
        },
    }
)
