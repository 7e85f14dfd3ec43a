"""Results routes: start lists, results entry by officials, objections, official and
amended results, prize money owed and paid, exports. Thin: parse, call one service."""

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access.guards import BEARER_SECURITY, current_principal, organiser_only, requires_role
from events.access.models import Role
from events.access.principal import Principal
from events.config import Settings
from events.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed
from events.idempotency import IdempotencyKey
from events.ids import parse_id
from events.pagination import Limit, Offset, Page
from events.problems import error_responses
from events.registration import reads as registration_reads
from events.results import exports, payouts, schemas, services
from events.results.models import HeatSetup, ResultsRule, ResultVersion
from events.results.services import ResultService, objection_read, version_reads
from events.results.startlists import Actor, StartListService
from events.spreadsheets import CSV_MEDIA_TYPE as CSV
from events.spreadsheets import XLSX_MEDIA_TYPE as XLSX

officials = requires_role(Role.OFFICIAL, Role.ORGANISER)
officials_or_owners = requires_role(Role.OFFICIAL, Role.ORGANISER, Role.OWNER)
Group = Annotated[
    Literal["award", "horse", "owner", "province"] | None,
    QueryParameter(
        description="Totals per award, horse, owner or province instead of one row per entitlement"
    ),
]
State = Annotated[
    Literal["owed", "held", "paid", "clawed_back", "clawback"] | None,
    QueryParameter(name="state", description="Only entitlements in this state"),
]
Payee = Annotated[str | None, QueryParameter(max_length=16, description="owner, rider, ...")]
RaceFilter = Annotated[str | None, QueryParameter(max_length=64)]


def actor_of(request: Request[Any, Any, Any]) -> Actor:
    principal = current_principal(request)
    return Actor(user_id=principal.id, role=principal.role)


def _is_official(request: Request[Any, Any, Any]) -> bool:
    principal = request.scope.get("user")
    return (
        isinstance(principal, Principal)
        and not principal.is_device
        and principal.role in (Role.OFFICIAL, Role.ORGANISER)
    )


def _attachment(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def provide_results(db_session: NamedDependency[AsyncSession]) -> ResultService:
    return ResultService(db_session)


def provide_start_lists(
    db_session: NamedDependency[AsyncSession], settings: NamedDependency[Settings]
) -> StartListService:
    return StartListService(db_session, settings)


def provide_prize_money(db_session: NamedDependency[AsyncSession]) -> payouts.PrizeMoneyService:
    return payouts.PrizeMoneyService(db_session)


def _rule_read(rule: ResultsRule) -> schemas.ResultsRuleRead:
    return schemas.ResultsRuleRead(
        category_id=str(rule.category_id),
        objection_minutes=rule.objection_minutes,
        judges_rule=rule.judges_rule,
        score_min=rule.score_min,
        score_max=rule.score_max,
        max_gait_faults=rule.max_gait_faults,
    )


def _heat_read(setup: HeatSetup) -> schemas.HeatSetupRead:
    return schemas.HeatSetupRead(
        final_race_id=str(setup.final_race_id),
        heat_race_ids=list(setup.heat_race_ids),
        advance_per_heat=setup.advance_per_heat,
        tie_rule=setup.tie_rule,
    )


class RaceResultsController(Controller):
    path = "/api/v1/races/{race_id:str}"
    tags = ["Results"]
    dependencies = {
        "results": Provide(provide_results, sync_to_thread=False),
        "start_lists": Provide(provide_start_lists, sync_to_thread=False),
    }

    @post(
        "/draw",
        operation_id="DrawStartList",
        status_code=200,
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Draw the start list by lot (seed optional; the seed used is recorded and "
        "returned)",
        responses=error_responses(NotFound, Conflict, ValidationFailed, ServiceUnavailable),
    )
    async def draw(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        data: JSONBody[schemas.DrawIn],
        start_lists: NamedDependency[StartListService],
    ) -> schemas.StartListRead:
        start_list = await start_lists.draw(actor_of(request), race_id, data)
        return await start_lists.read(start_list.race_id, public=False)

    @get(
        "/start-list",
        operation_id="GetStartList",
        summary="The start list (public once published; officials see a drawn one)",
        responses=error_responses(NotFound),
    )
    async def start_list(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        start_lists: NamedDependency[StartListService],
    ) -> schemas.StartListRead:
        return await start_lists.read(race_id, public=not _is_official(request))

    @post(
        "/start-list/publish",
        operation_id="PublishStartList",
        status_code=200,
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Publish the start list (then a change is a scratch with its reason)",
        responses=error_responses(NotFound, Conflict),
    )
    async def publish(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        start_lists: NamedDependency[StartListService],
    ) -> schemas.StartListRead:
        start_list = await start_lists.publish(actor_of(request), race_id)
        return await start_lists.read(start_list.race_id, public=False)

    @post(
        "/start-list/scratch",
        operation_id="ScratchStarter",
        status_code=200,
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Scratch a horse with a reason; the next reserve or waiting entry moves up",
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def scratch(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        data: JSONBody[schemas.ScratchIn],
        start_lists: NamedDependency[StartListService],
    ) -> schemas.StartListRead:
        start_list = await start_lists.scratch(actor_of(request), race_id, data)
        return await start_lists.read(start_list.race_id, public=False)

    @put(
        "/heats",
        operation_id="SetHeats",
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Make this race the final of heats: top N of each, tie rule at the cut",
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def heats(
        self,
        race_id: FromPath[str],
        data: JSONBody[schemas.HeatSetupIn],
        start_lists: NamedDependency[StartListService],
    ) -> schemas.HeatSetupRead:
        return _heat_read(await start_lists.set_heats(race_id, data))

    @post(
        "/results",
        operation_id="SubmitResults",
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Submit the whole race's result (all or nothing); after official, an "
        "amendment with its reason",
        responses=error_responses(NotFound, Conflict, ValidationFailed, Forbidden),
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        data: JSONBody[schemas.ResultsIn],
        results: NamedDependency[ResultService],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[schemas.ResultVersionRead]:
        version, replayed = await results.submit(
            actor_of(request), race_id, data, idempotency_key=idempotency_key
        )
        read = await self._version(results, version)
        return Response(read, status_code=200 if replayed else 201)

    @staticmethod
    async def _version(results: ResultService, version: ResultVersion) -> schemas.ResultVersionRead:
        prizes = await payouts.prizes_by_entry(results.session, [version.race_id])
        return (await version_reads(results.session, [version], prizes))[0]

    @post(
        "/official",
        operation_id="DeclareOfficial",
        status_code=200,
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Declare the provisional result official (prize money becomes owed)",
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def official(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        data: JSONBody[schemas.OfficialIn],
        results: NamedDependency[ResultService],
    ) -> schemas.ResultVersionRead:
        version = await results.declare_official(actor_of(request), race_id, data.note)
        return await self._version(results, version)

    @get(
        "/results",
        operation_id="GetRaceResult",
        summary="The race's state, start list, latest result and objections (public)",
        responses=error_responses(NotFound),
    )
    async def result(
        self,
        race_id: FromPath[str],
        request: Request[Any, Any, Any],
        results: NamedDependency[ResultService],
    ) -> schemas.RaceResultRead:
        found = await results.race_result(race_id)
        return found if _is_official(request) else services.public_starts(found)

    @get(
        "/results/history",
        operation_id="GetResultsHistory",
        summary="Every version of the race's result: who, when, why (public)",
        responses=error_responses(NotFound),
    )
    async def history(
        self,
        race_id: FromPath[str],
        results: NamedDependency[ResultService],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> schemas.ResultsHistory:
        return await results.history(race_id, limit=limit, offset=offset)

    @get(
        "/results/export.csv",
        operation_id="ExportRaceResultsCsv",
        summary="The race's result as CSV",
        responses=error_responses(NotFound),
        media_type=CSV,
    )
    async def export_csv(
        self,
        race_id: FromPath[str],
        request: Request[Any, Any, Any],
        results: NamedDependency[ResultService],
    ) -> Response[bytes]:
        found = services.public_starts(await results.race_result(race_id))
        return _attachment(exports.results_csv([found]), CSV, f"results-{found.code}.csv")

    @get(
        "/results/export.xlsx",
        operation_id="ExportRaceResultsXlsx",
        summary="The race's result as XLSX",
        responses=error_responses(NotFound),
        media_type=XLSX,
    )
    async def export_xlsx(
        self, race_id: FromPath[str], results: NamedDependency[ResultService]
    ) -> Response[bytes]:
        found = services.public_starts(await results.race_result(race_id))
        return _attachment(exports.results_xlsx([found]), XLSX, f"results-{found.code}.xlsx")

    @post(
        "/objections",
        operation_id="LodgeObjection",
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Lodge an objection (during the window) or a stewards' inquiry",
        responses=error_responses(NotFound, Conflict, ValidationFailed),
    )
    async def lodge(
        self,
        request: Request[Any, Any, Any],
        race_id: FromPath[str],
        data: JSONBody[schemas.ObjectionIn],
        results: NamedDependency[ResultService],
    ) -> schemas.ObjectionRead:
        return objection_read(await results.lodge(actor_of(request), race_id, data))


class ObjectionController(Controller):
    path = "/api/v1/objections"
    tags = ["Results"]
    dependencies = {"results": Provide(provide_results, sync_to_thread=False)}

    @post(
        "/{objection_id:str}/decision",
        operation_id="DecideObjection",
        status_code=200,
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Uphold or dismiss an objection (an upheld one is followed by an amendment)",
        responses=error_responses(NotFound, Conflict),
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        objection_id: FromPath[str],
        data: JSONBody[schemas.ObjectionDecisionIn],
        results: NamedDependency[ResultService],
    ) -> schemas.ObjectionRead:
        return objection_read(await results.decide(actor_of(request), objection_id, data))


class PrizeEntitlementController(Controller):
    path = "/api/v1/prize-entitlements"
    tags = ["Results"]
    dependencies = {"prize_money": Provide(provide_prize_money, sync_to_thread=False)}

    @post(
        "/{entitlement_id:str}/paid",
        operation_id="MarkPrizePaid",
        status_code=200,
        guards=[organiser_only],
        security=BEARER_SECURITY,
        summary="Mark an entitlement paid with the payment reference (a retry with the "
        "same reference changes nothing)",
        responses=error_responses(NotFound, Conflict),
    )
    async def mark_paid(
        self,
        request: Request[Any, Any, Any],
        entitlement_id: FromPath[str],
        data: JSONBody[schemas.MarkPaidIn],
        prize_money: NamedDependency[payouts.PrizeMoneyService],
    ) -> schemas.PayoutRead:
        return await prize_money.mark_paid(entitlement_id, data, actor_of(request).user_id)


class FestivalResultsController(Controller):
    path = "/api/v1/festivals/{festival_id:str}"
    tags = ["Results"]
    dependencies = {
        "results": Provide(provide_results, sync_to_thread=False),
        "prize_money": Provide(provide_prize_money, sync_to_thread=False),
    }

    @put(
        "/award-categories/{category_id:str}/results-rules",
        operation_id="SetResultsRules",
        guards=[organiser_only],
        security=BEARER_SECURITY,
        summary="How a category's races are judged: objection window, judges' rule, score "
        "range, gait faults allowed",
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def set_rules(
        self,
        festival_id: FromPath[str],
        category_id: FromPath[str],
        data: JSONBody[schemas.ResultsRuleIn],
        results: NamedDependency[ResultService],
    ) -> schemas.ResultsRuleRead:
        return _rule_read(await results.set_rule(festival_id, category_id, data))

    @get(
        "/results/export.csv",
        operation_id="ExportResultsCsv",
        media_type=CSV,
        summary="The festival's results as CSV",
        responses=error_responses(NotFound),
    )
    async def results_csv(
        self, festival_id: FromPath[str], results: NamedDependency[ResultService]
    ) -> Response[bytes]:
        races = await services.festival_results(results.session, festival_id)
        return _attachment(exports.results_csv(races), CSV, "results.csv")

    @get(
        "/results/export.xlsx",
        operation_id="ExportResultsXlsx",
        media_type=XLSX,
        summary="The festival's results as XLSX",
        responses=error_responses(NotFound),
    )
    async def results_xlsx(
        self, festival_id: FromPath[str], results: NamedDependency[ResultService]
    ) -> Response[bytes]:
        races = await services.festival_results(results.session, festival_id)
        return _attachment(exports.results_xlsx(races), XLSX, "results.xlsx")

    @get(
        "/points",
        operation_id="GetPointsTable",
        summary="Points across official races per horse (the horse king table; public)",
        responses=error_responses(NotFound, ValidationFailed),
    )
    async def points(
        self,
        festival_id: FromPath[str],
        results: NamedDependency[ResultService],
        category_id: Annotated[
            list[str] | None,
            QueryParameter(description="Count only races of these award categories (repeatable)"),
        ] = None,
        points: Annotated[
            str | None,
            QueryParameter(max_length=200, description="Points by place, e.g. 10,8,6,5,4,3,2,1"),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> schemas.PointsTable:
        table = services.parse_points(points)
        ids = [parse_id(c, "award category") for c in category_id or []]
        items = await services.points_standings(
            results.session, festival_id, category_ids=ids, points=table
        )
        return schemas.PointsTable(
            festival_id=festival_id,
            points_by_place=list(table),
            items=items[offset : offset + limit],
            total=len(items),
            limit=limit,
            offset=offset,
        )

    @get(
        "/prize-money",
        operation_id="ListPrizeMoney",
        guards=[officials_or_owners],
        security=BEARER_SECURITY,
        summary="Prize money owed per award and payee, held, paid or clawed back (an owner "
        "sees their own)",
        responses=error_responses(NotFound),
    )
    async def prize_money_list(
        self,
        request: Request[Any, Any, Any],
        festival_id: FromPath[str],
        prize_money: NamedDependency[payouts.PrizeMoneyService],
        state_filter: State = None,
        race_id: RaceFilter = None,
        owner_id: RaceFilter = None,
        payee: Payee = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[schemas.EntitlementRead]:
        actor = actor_of(request)
        if actor.role == Role.OWNER:
            owner_id = str(
                await registration_reads.owner_id_for(prize_money.session, actor.user_id)
            )
        items, total = await prize_money.search(
            festival_id,
            payouts.PrizeFilters(
                state=state_filter, race_id=race_id, owner_id=owner_id, payee=payee
            ),
            limit=limit,
            offset=offset,
        )
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get(
        "/prize-money/totals",
        operation_id="GetPrizeMoneyTotals",
        guards=[officials],
        security=BEARER_SECURITY,
        summary="Prize money owed, paid and held, in fen",
        responses=error_responses(NotFound),
    )
    async def totals(
        self, festival_id: FromPath[str], prize_money: NamedDependency[payouts.PrizeMoneyService]
    ) -> schemas.PrizeMoneyTotalsRead:
        found = await payouts.prize_money_totals(prize_money.session, festival_id)
        return schemas.PrizeMoneyTotalsRead(
            owed=found.owed, paid=found.paid, held=found.held, currency=found.currency
        )

    @get(
        "/prize-money/export.csv",
        operation_id="ExportPrizeMoneyCsv",
        guards=[officials],
        security=BEARER_SECURITY,
        media_type=CSV,
        summary="Prize money as CSV (per entitlement, or totals per award/horse/owner/province)",
        responses=error_responses(NotFound),
    )
    async def prize_csv(
        self,
        festival_id: FromPath[str],
        prize_money: NamedDependency[payouts.PrizeMoneyService],
        group: Group = None,
    ) -> Response[bytes]:
        items, _ = await prize_money.search(
            festival_id, payouts.PrizeFilters(), limit=None, offset=0
        )
        return _attachment(
            exports.prize_csv(items, group), CSV, f"prize-money{'-' + group if group else ''}.csv"
        )

    @get(
        "/prize-money/export.xlsx",
        operation_id="ExportPrizeMoneyXlsx",
        guards=[officials],
        security=BEARER_SECURITY,
        media_type=XLSX,
        summary="Prize money as XLSX: entitlements, and sheets per award, horse, owner and "
        "province",
        responses=error_responses(NotFound),
    )
    async def prize_xlsx(
        self, festival_id: FromPath[str], prize_money: NamedDependency[payouts.PrizeMoneyService]
    ) -> Response[bytes]:
        items, _ = await prize_money.search(
            festival_id, payouts.PrizeFilters(), limit=None, offset=0
        )
        return _attachment(exports.prize_xlsx(items), XLSX, "prize-money.xlsx")


ROUTES = [
    RaceResultsController,
    ObjectionController,
    PrizeEntitlementController,
    FestivalResultsController,
]
