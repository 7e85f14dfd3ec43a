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
from events.db.deps import abandon
from events.errors import DomainError
from events.festivals import services as festival_services
from events.registration import schemas
from events.registration.models import Race
from events.registration.races import RaceService
from events.web.i18n import N_

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
            await abandon(db_session)
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
            await abandon(db_session)
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


# Keys used under computed names (texts: src/events/locale, docs/translations.md).
_MESSAGE_KEYS = (
    N_("console.nav.races"),
    N_("console.races.entered"),
    N_("console.races.window.closed"),
    N_("console.races.window.late"),
    N_("console.races.window.not_open"),
    N_("console.races.window.open"),
)
