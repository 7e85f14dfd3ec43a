"""Registration routes: owners sign up, register horses and riders, enter races; organisers
set up races, list, import and export entries."""

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter, RawBody
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, current_principal, organiser_only, requires_role
from events.access.models import Role
from events.access.security import issue_access_token
from events.config import Settings
from events.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, Unauthorized
from events.idempotency import IdempotencyKey
from events.links import Links
from events.pagination import Limit, Offset, Page, page_of
from events.problems import error_responses
from events.registration import exports, provinces, schemas, withdrawal
from events.registration.common import Actor
from events.registration.entries import EntryFilters, EntryService, Ineligible
from events.registration.horses import HorseService
from events.registration.importing import EntryImport, ImportRejected
from events.registration.mappers import horse_read, province_read, rider_read
from events.registration.models import EntryStatus
from events.registration.owners import OwnerService
from events.registration.pages import OwnerPages
from events.registration.races import RaceService
from events.spreadsheets import XLSX_MEDIA_TYPE as XLSX

owner_or_organiser = requires_role(Role.OWNER, Role.ORGANISER)
owner_only = requires_role(Role.OWNER)
ENTRY_STAFF = (Role.ORGANISER, Role.OFFICIAL)
"""Who sees every entry (``Actor.is_organiser``) and may act on any: the list, the detail
and the inspect/scratch actions share this one rule (issue 17: officials acted on entries
they could not list)."""
inspectors = requires_role(*ENTRY_STAFF)
entry_readers = requires_role(Role.OWNER, *ENTRY_STAFF)


def actor_of(request: Request[Any, Any, Any]) -> Actor:
    principal = current_principal(request)
    return Actor(user_id=principal.id, role=principal.role)


def provide_owners(db_session: NamedDependency[AsyncSession]) -> OwnerService:
    return OwnerService(db_session)


def provide_horses(db_session: NamedDependency[AsyncSession]) -> HorseService:
    return HorseService(db_session)


def provide_races(db_session: NamedDependency[AsyncSession]) -> RaceService:
    return RaceService(db_session)


def provide_entries(
    request: Request[Any, Any, Any],
    db_session: NamedDependency[AsyncSession],
    settings: NamedDependency[Settings],
) -> EntryService:
    return EntryService(db_session, settings, Links.for_request(request, settings))


def provide_import(db_session: NamedDependency[AsyncSession]) -> EntryImport:
    return EntryImport(db_session)


class OwnerController(Controller):
    path = "/api/v1/owners"
    tags = ["Registration"]
    dependencies = {
        "owners": Provide(provide_owners, sync_to_thread=False),
        "entries": Provide(provide_entries, sync_to_thread=False),
    }

    @post(
        operation_id="SignUpOwner",
        summary="Sign up as a horse owner (public): an account, the profile and riders",
        responses=error_responses(Conflict),
    )
    async def sign_up(
        self,
        data: JSONBody[schemas.OwnerSignUp],
        owners: NamedDependency[OwnerService],
        settings: NamedDependency[Settings],
    ) -> schemas.OwnerSignedUp:
        owner, user = await owners.sign_up(data)
        token, expires_at = issue_access_token(
            user_id=user.id,
            role=user.role,
            key=settings.signing_key(),
            ttl_seconds=settings.token_ttl_seconds,
        )
        return schemas.OwnerSignedUp(
            owner=await owners.read(owner),
            username=user.username,
            access_token=token,
            expires_at=expires_at,
        )

    @get(
        "/me",
        operation_id="GetMyOwnerProfile",
        summary="The signed-in owner's profile and riders",
        guards=[owner_only],
        security=BEARER_SECURITY,
        responses=error_responses(Unauthorized, Forbidden),
    )
    async def me(
        self, request: Request[Any, Any, Any], owners: NamedDependency[OwnerService]
    ) -> schemas.OwnerRead:
        return await owners.read(await owners.for_user(actor_of(request).user_id))

    @post(
        "/me/riders",
        operation_id="AddRider",
        summary="Add a rider (under 18: with a guardian's consent)",
        guards=[owner_only],
        security=BEARER_SECURITY,
        responses=error_responses(Unauthorized, Forbidden, Conflict),
    )
    async def add_rider(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.RiderIn],
        owners: NamedDependency[OwnerService],
    ) -> schemas.RiderRead:
        owner = await owners.for_user(actor_of(request).user_id)
        return rider_read(await owners.add_rider(owner, data))

    @get(
        "/me/entries",
        operation_id="ListMyEntries",
        summary="The signed-in owner's entries, their status and fees due",
        guards=[owner_only],
        security=BEARER_SECURITY,
        responses=error_responses(Unauthorized, Forbidden),
    )
    async def my_entries(
        self,
        request: Request[Any, Any, Any],
        entries: NamedDependency[EntryService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.EntryRead]:
        return page_of(await entries.mine(actor_of(request)), limit, offset)


class ProvinceController(Controller):
    path = "/api/v1/provinces"
    tags = ["Registration"]

    @get(operation_id="ListProvinces", summary="The 34 provincial-level divisions (zh, en)")
    async def list_provinces(
        self, limit: Limit = 100, offset: Offset = 0
    ) -> Page[schemas.ProvinceRead]:
        return page_of([province_read(p.code) for p in provinces.PROVINCES], limit, offset)


class HorseController(Controller):
    path = "/api/v1/horses"
    tags = ["Registration"]
    guards = [owner_or_organiser]
    security = BEARER_SECURITY
    dependencies = {"horses": Provide(provide_horses, sync_to_thread=False)}

    @post(
        operation_id="RegisterHorse",
        summary="Register a horse (owners: their own; organisers: for an owner_id)",
        responses=error_responses(Unauthorized, Forbidden, Conflict),
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.HorseIn],
        horses: NamedDependency[HorseService],
    ) -> schemas.HorseRead:
        horse, owner = await horses.create(actor_of(request), data)
        return horse_read(horse, owner.name)

    @get(
        operation_id="ListHorses",
        summary="Horses: an owner sees their own, organisers all (with filters)",
        responses=error_responses(Unauthorized, Forbidden, NotFound),
    )
    async def list_horses(
        self,
        request: Request[Any, Any, Any],
        horses: NamedDependency[HorseService],
        limit: Limit = 50,
        offset: Offset = 0,
        owner_id: Annotated[
            str | None, QueryParameter(max_length=64, description="Organisers: one owner's horses")
        ] = None,
        province: Annotated[
            str | None,
            QueryParameter(max_length=40, description="Province of origin (any spelling)"),
        ] = None,
        species: Annotated[Literal["horse", "yak"] | None, QueryParameter()] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="Search names and microchips")
        ] = None,
    ) -> Page[schemas.HorseRead]:
        items, total = await horses.search(
            actor_of(request),
            limit=limit,
            offset=offset,
            owner_id=owner_id,
            province=province,
            q=q,
            species=species,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/{horse_id:str}",
        operation_id="GetHorse",
        summary="A horse",
        responses=error_responses(Unauthorized, Forbidden, NotFound),
    )
    async def get_horse(
        self,
        request: Request[Any, Any, Any],
        horse_id: FromPath[str],
        horses: NamedDependency[HorseService],
    ) -> schemas.HorseRead:
        horse, owner = await horses.get(actor_of(request), horse_id)
        return horse_read(horse, owner.name)


class RaceController(Controller):
    tags = ["Registration"]
    dependencies = {"races": Provide(provide_races, sync_to_thread=False)}

    @get(
        "/api/v1/festivals/{festival_id:str}/races",
        operation_id="ListRaces",
        summary="A festival's races with places left, fees and conditions (public)",
        responses=error_responses(NotFound),
    )
    async def list_races(
        self,
        festival_id: FromPath[str],
        races: NamedDependency[RaceService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.RaceRead]:
        return page_of(await races.of_festival(festival_id), limit, offset)

    @post(
        "/api/v1/festivals/{festival_id:str}/races",
        operation_id="CreateRace",
        summary="Add a race: day, field size, entry window, fees and eligibility rules",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict),
    )
    async def create_race(
        self,
        festival_id: FromPath[str],
        data: JSONBody[schemas.RaceIn],
        races: NamedDependency[RaceService],
    ) -> schemas.RaceRead:
        return await races.read(await races.create(festival_id, data))

    @get(
        "/api/v1/races/{race_id:str}",
        operation_id="GetRace",
        summary="A race with places left, fees and conditions (public)",
        responses=error_responses(NotFound),
    )
    async def get_race(
        self, race_id: FromPath[str], races: NamedDependency[RaceService]
    ) -> schemas.RaceRead:
        return await races.read(await races.get(race_id))

    @patch(
        "/api/v1/races/{race_id:str}",
        operation_id="UpdateRace",
        summary="Edit a race; a larger field moves the waiting list up",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, Conflict, ServiceUnavailable),
    )
    async def update_race(
        self,
        race_id: FromPath[str],
        data: JSONBody[schemas.RaceUpdate],
        races: NamedDependency[RaceService],
    ) -> schemas.RaceRead:
        return await races.read(await races.update(race_id, data))


class FestivalEntryController(Controller):
    path = "/api/v1/festivals/{festival_id:str}/entries"
    tags = ["Registration"]
    dependencies = {
        "entries": Provide(provide_entries, sync_to_thread=False),
        "importer": Provide(provide_import, sync_to_thread=False),
    }

    @post(
        operation_id="CreateEntry",
        summary="Enter a horse and rider in a race; starts the fee payment (Idempotency-Key)",
        guards=[owner_or_organiser],
        security=BEARER_SECURITY,
        responses=error_responses(
            Unauthorized, Forbidden, NotFound, Conflict, Ineligible, ServiceUnavailable
        ),
    )
    async def create_entry(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        data: JSONBody[schemas.EntryIn],
        entries: NamedDependency[EntryService],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.EntryRead]:
        created = await entries.create(
            actor_of(request), festival_id, data, idempotency_key=idempotency_key
        )
        headers = {"Idempotent-Replayed": "true"} if created.replayed else {}
        return Response(created.entry, status_code=201, headers=headers)

    @get(
        operation_id="ListEntries",
        summary="A festival's entries, filtered by province, race, status, owner and microchip",
        guards=[inspectors],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound),
    )
    async def list_entries(
        self,
        festival_id: FromPath[str],
        entries: NamedDependency[EntryService],
        limit: Limit = 50,
        offset: Offset = 0,
        province: Annotated[
            str | None,
            QueryParameter(max_length=40, description="Owner's province (四川, Sichuan or SC)"),
        ] = None,
        race_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        status: Annotated[EntryStatus | None, QueryParameter()] = None,
        owner: Annotated[
            str | None,
            QueryParameter(max_length=100, description="Part of the owner's name, or their mobile"),
        ] = None,
        microchip: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> Page[schemas.EntryRead]:
        items, total = await entries.search(
            festival_id,
            EntryFilters(
                province=province, race_id=race_id, status=status, owner=owner, microchip=microchip
            ),
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/summary",
        operation_id="SummariseEntries",
        summary="Entries, horses and provinces; counts by province, status and race (public)",
        responses=error_responses(NotFound),
    )
    async def summary(
        self, festival_id: FromPath[str], entries: NamedDependency[EntryService]
    ) -> schemas.EntrySummary:
        return await entries.summary(festival_id)

    @get(
        "/export.csv",
        operation_id="ExportEntriesCsv",
        summary="Entries as CSV (UTF-8 with BOM), same filters as the list",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        media_type="text/csv",
        responses=error_responses(NotFound),
    )
    async def export_csv(
        self,
        festival_id: FromPath[str],
        entries: NamedDependency[EntryService],
        province: Annotated[str | None, QueryParameter(max_length=40)] = None,
        race_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        status: Annotated[EntryStatus | None, QueryParameter()] = None,
    ) -> Response[bytes]:
        festival, rows = await entries.rows_for_export(
            festival_id, EntryFilters(province=province, race_id=race_id, status=status)
        )
        return Response(
            exports.to_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{festival.slug}-entries.csv"'},
        )

    @get(
        "/export.xlsx",
        operation_id="ExportEntriesXlsx",
        summary="Entries as an Excel workbook, same filters as the list",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        media_type=XLSX,
        responses=error_responses(NotFound),
    )
    async def export_xlsx(
        self,
        festival_id: FromPath[str],
        entries: NamedDependency[EntryService],
        province: Annotated[str | None, QueryParameter(max_length=40)] = None,
        race_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
        status: Annotated[EntryStatus | None, QueryParameter()] = None,
    ) -> Response[bytes]:
        festival, rows = await entries.rows_for_export(
            festival_id, EntryFilters(province=province, race_id=race_id, status=status)
        )
        return Response(
            exports.to_xlsx(rows),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{festival.slug}-entries.xlsx"'},
        )

    @post(
        "/import",
        operation_id="ImportEntries",
        summary="Import a delegation's CSV or XLSX (one row per entry); all rows or none",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        responses=error_responses(NotFound, ImportRejected, ServiceUnavailable),
    )
    async def import_entries(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        body: RawBody,
        importer: NamedDependency[EntryImport],
        dry_run: Annotated[
            bool, QueryParameter(description="Check every row and report, store nothing")
        ] = False,
    ) -> schemas.ImportReport:
        return await importer.run(
            festival_id, body, dry_run=dry_run, actor_id=actor_of(request).user_id
        )


class EntryController(Controller):
    path = "/api/v1/entries"
    tags = ["Registration"]
    security = BEARER_SECURITY
    dependencies = {"entries": Provide(provide_entries, sync_to_thread=False)}

    @get(
        "/{entry_id:str}",
        operation_id="GetEntry",
        summary="An entry with its history",
        guards=[entry_readers],
        responses=error_responses(Unauthorized, Forbidden, NotFound),
    )
    async def get_entry(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        entries: NamedDependency[EntryService],
    ) -> schemas.EntryDetail:
        return await entries.detail(actor_of(request), entry_id)

    @post(
        "/{entry_id:str}/withdraw",
        operation_id="WithdrawEntry",
        summary="Withdraw an entry; the refund follows the published rule",
        status_code=200,
        guards=[owner_or_organiser],
        responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable),
    )
    async def withdraw(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        entries: NamedDependency[EntryService],
        data: JSONBody[schemas.WithdrawIn | None] = None,
    ) -> schemas.Withdrawal:
        return await entries.withdraw(actor_of(request), entry_id, data.reason if data else "")

    @get(
        "/{entry_id:str}/withdrawal",
        operation_id="PreviewWithdrawal",
        summary="The refund withdrawing this entry now would give (nothing changes)",
        description="Computed by the same published rule as `WithdrawEntry`.",
        guards=[owner_or_organiser],
        responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict),
    )
    async def preview_withdrawal(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> schemas.RefundRead:
        return await withdrawal.preview(db_session, actor_of(request), entry_id)

    @post(
        "/{entry_id:str}/pay",
        operation_id="PayEntry",
        summary="Start (or find) the fee payment of an entry that owes its fee",
        status_code=200,
        guards=[owner_or_organiser],
        responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable),
    )
    async def pay(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        entries: NamedDependency[EntryService],
    ) -> schemas.EntryRead:
        return await entries.pay(actor_of(request), entry_id)

    @post(
        "/{entry_id:str}/inspect",
        operation_id="InspectEntry",
        summary="Record the pre-race inspection; a failed one scratches the entry",
        status_code=200,
        guards=[inspectors],
        responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable),
    )
    async def inspect(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        data: JSONBody[schemas.InspectionIn],
        entries: NamedDependency[EntryService],
    ) -> schemas.InspectionResult:
        return await entries.inspect(actor_of(request), entry_id, data)

    @post(
        "/{entry_id:str}/scratch",
        operation_id="ScratchEntry",
        summary="Scratch an entry (organiser: vet, stewards); refund by rule",
        status_code=200,
        guards=[inspectors],
        responses=error_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable),
    )
    async def scratch(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[str],
        data: JSONBody[schemas.ScratchIn],
        entries: NamedDependency[EntryService],
    ) -> schemas.Withdrawal:
        return await entries.scratch(actor_of(request), entry_id, data.reason)


ROUTES = [
    OwnerController,
    ProvinceController,
    HorseController,
    RaceController,
    FestivalEntryController,
    EntryController,
    OwnerPages,
]
