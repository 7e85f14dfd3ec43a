"""Owners' pages, phone first, Chinese and English: sign up, log in, add horses and riders,
enter races, see the entries with their status and the fee due, pay, withdraw.

Server-rendered forms posting to these handlers, which call the same services as the API.
Signing in sets the owner's login token in an ``HttpOnly``, ``SameSite=Lax`` cookie (so
other sites can neither read it nor post forms with it); it is ``Secure`` when the site is
served over https. A form that fails rolls the request's transaction back before the page
is shown again, so nothing is ever half-saved.
"""

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import security
from events.access import services as access_services
from events.access.models import Role
from events.access.throttle import TooManyAttempts
from events.config import Settings
from events.db.base import utcnow
from events.errors import DomainError, ValidationFailed
from events.links import Links
from events.money import format_money
from events.registration import fees, identity, provinces, schemas, withdrawal
from events.registration.choices import RaceChoice, race_choices
from events.registration.models import Horse, Owner
from events.registration.services import (
    Actor,
    EntryService,
    HorseService,
    Ineligible,
    OwnerService,
    RaceService,
)
from events.web.i18n import register
from events.web.pages import page

COOKIE = "owner_session"
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PRIVATE = {"Cache-Control": "private, no-store"}


def _errors_of(exc: PydanticValidationError | DomainError) -> dict[str, str]:
    """Field → message, for the form; ``_`` is for the whole form."""
    if isinstance(exc, PydanticValidationError):
        return {".".join(str(p) for p in e["loc"]) or "_":
                str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()}
    if isinstance(exc, ValidationFailed):
        return {e["field"]: e["message"] for e in exc.errors}
    return {"_": exc.instance_code}


class OwnerPages(Controller):
    include_in_schema = False

    # --- who is signed in ---------------------------------------------------------------

    @staticmethod
    def _user_id(request: Request[Any, Any, Any], settings: Settings) -> uuid.UUID | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            claims = security.decode_access_token(token, key=settings.signing_key())
        except security.InvalidToken:
            return None
        return claims.user_id if claims.role == Role.OWNER else None

    async def _owner(self, request: Request[Any, Any, Any], session: AsyncSession,
                     settings: Settings) -> tuple[Owner, Actor] | None:
        """The signed-in owner and who acts, or None (then the login page)."""
        user_id = self._user_id(request, settings)
        if user_id is None:
            return None
        try:
            owner = await OwnerService(session).for_user(user_id)
        except DomainError:
            return None
        return owner, Actor(user_id=user_id, role=Role.OWNER)

    @staticmethod
    def _login_redirect(request: Request[Any, Any, Any]) -> Redirect:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        next_page = urlencode({"next": here}, safe="/")
        return Redirect(f"/owners/login?{next_page}", status_code=303)

    @staticmethod
    def _signed_in(request: Request[Any, Any, Any], response: Response[Any], user_id: uuid.UUID,
                   settings: Settings) -> Response[Any]:
        token, _ = security.issue_access_token(user_id=user_id, role=Role.OWNER,
                                               key=settings.signing_key(),
                                               ttl_seconds=settings.token_ttl_seconds)
        response.set_cookie(COOKIE, token, max_age=settings.token_ttl_seconds, httponly=True,
                            samesite="lax", path="/",
                            secure=Links.for_request(request, settings).secure)
        return response

    def _page(self, request: Request[Any, Any, Any], template: str, status: int = 200,
              **context: Any) -> Template:
        response = page(request, f"registration/{template}", money=format_money,
                        provinces=provinces.PROVINCES, **context)
        response.status_code = status
        response.headers.update(PRIVATE)
        return response

    # --- signing up, in and out ---------------------------------------------------------

    @get("/owners/signup", operation_id="OwnerSignUpPage", summary="Sign up (page)")
    async def signup_form(self, request: Request[Any, Any, Any]) -> Template:
        return self._page(request, "signup.html", form={}, errors={})

    @post("/owners/signup", operation_id="OwnerSignUpSubmit", summary="Sign up (form)")
    async def signup(self, request: Request[Any, Any, Any], data: Form,
                     db_session: NamedDependency[AsyncSession],
                     settings: NamedDependency[Settings]) -> Response[Any]:
        form = {k: v.strip() for k, v in data.items()}
        rider: dict[str, Any] = {"name": form.get("rider_name", ""),
                                 "birth_date": form.get("rider_birth_date", ""),
                                 "guardian_consent": form.get("guardian_consent") == "on"}
        try:
            signup = schemas.OwnerSignUp(
                username=form.get("username") or None, password=form.get("password", ""),
                name=form.get("name", ""), mobile=form.get("mobile", ""),
                province=form.get("province", ""), county=form.get("county", ""),
                township=form.get("township", ""),
                riders=[rider] if rider["name"] or rider["birth_date"] else [])
            _, user = await OwnerService(db_session).sign_up(signup)
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            form.pop("password", None)
            errors = {_SIGNUP_FIELDS.get(k, k): v for k, v in _errors_of(exc).items()}
            return self._page(request, "signup.html", status=422, form=form, errors=errors)
        return self._signed_in(request, Redirect("/my", status_code=303), user.id, settings)

    @get("/owners/login", operation_id="OwnerLoginPage", summary="Log in (page)")
    async def login_form(self, request: Request[Any, Any, Any],
                         next_page: Annotated[str | None, QueryParameter(
                             name="next", max_length=200)] = None) -> Template:
        return self._page(request, "login.html", form={"next": next_page or "/my"},
                          error=None)

    @post("/owners/login", operation_id="OwnerLoginSubmit", summary="Log in (form)")
    async def login(self, request: Request[Any, Any, Any], data: Form,
                    db_session: NamedDependency[AsyncSession],
                    settings: NamedDependency[Settings]) -> Response[Any]:
        login = data.get("login", "").strip()
        target = data.get("next", "/my")
        if not target.startswith("/") or target.startswith("//"):
            target = "/my"  # never an open redirect
        username = login
        mobile = identity.normalise_mobile(login)
        if mobile is not None:  # owners log in with their mobile number too
            username = await OwnerService(db_session).username_for(mobile) or login
        try:
            user = await access_services.UserService(db_session).authenticate(
                username, data.get("password", ""), throttle=request.app.state.login_throttle,
                address=request.client.host if request.client else None)
        except TooManyAttempts as exc:
            response = self._page(request, "login.html", status=429,
                                  form={"login": login, "next": target}, error="login.failed")
            response.headers.update(exc.headers)
            return response
        except DomainError:
            return self._page(request, "login.html", status=401,
                              form={"login": login, "next": target}, error="login.failed")
        if user.role != Role.OWNER:
            return self._page(request, "login.html", status=403,
                              form={"login": login, "next": target}, error="login.not_owner")
        return self._signed_in(request, Redirect(target, status_code=303), user.id, settings)

    @post("/owners/logout", operation_id="OwnerLogout", summary="Log out (form)")
    async def logout(self) -> Redirect:
        response = Redirect("/owners/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- the owner's own pages ----------------------------------------------------------

    @get("/my", operation_id="MyEntriesPage", summary="My entries, horses and riders (page)")
    async def my_page(self, request: Request[Any, Any, Any],
                      db_session: NamedDependency[AsyncSession],
                      settings: NamedDependency[Settings],
                      entered: Annotated[str | None, QueryParameter(max_length=64)] = None,
                      paid: Annotated[str | None, QueryParameter(max_length=64)] = None,
                      withdrawn: Annotated[str | None, QueryParameter(max_length=64)] = None,
                      refund: Annotated[int | None, QueryParameter(ge=0)] = None,
                      ) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        owner, actor = signed_in
        entries = await _entries(request, db_session, settings).mine(actor)
        horses, _ = await HorseService(db_session).search(actor, limit=200, offset=0)
        profile = await OwnerService(db_session).read(owner)
        # Back from paying a fee (/pay/{id}/result): that entry, confirmed or being confirmed.
        paid_entry = next((e for e in entries if paid and e.id == paid), None)
        return self._page(request, "my.html", owner=profile, entries=entries, horses=horses,
                          entered=entered, paid=paid, paid_entry=paid_entry,
                          withdrawn=next((e for e in entries if e.id == withdrawn), None),
                          withdrawn_refund=refund,
                          due=sum(e.balance_due for e in entries))

    @get("/my/horses/new", operation_id="NewHorsePage", summary="Add a horse (page)")
    async def horse_form(self, request: Request[Any, Any, Any],
                         db_session: NamedDependency[AsyncSession],
                         settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        return self._page(request, "horse.html", form={"origin_province": signed_in[0].province},
                          errors={}, duplicate=False)

    @post("/my/horses/new", operation_id="NewHorseSubmit", summary="Add a horse (form)")
    async def add_horse(self, request: Request[Any, Any, Any], data: Form,
                        db_session: NamedDependency[AsyncSession],
                        settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        form = {k: v.strip() for k, v in data.items()}
        fields = ("name_zh", "name_bo", "name_en", "species", "sex", "birth_year", "colour",
                  "markings", "breed", "height_cm", "microchip", "passport_number",
                  "origin_province")
        values: dict[str, Any] = {k: form[k] for k in fields if form.get(k)}
        values["confirm_duplicate"] = form.get("confirm_duplicate") == "on"
        try:
            await HorseService(db_session).create(signed_in[1], _model(schemas.HorseIn, values))
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            duplicate = isinstance(exc, DomainError) and exc.instance_code == "possible_duplicate"
            return self._page(request, "horse.html", status=422 if not duplicate else 409,
                              form=form, errors=_errors_of(exc), duplicate=duplicate)
        return Redirect("/my", status_code=303)

    @get("/my/riders/new", operation_id="NewRiderPage", summary="Add a rider (page)")
    async def rider_form(self, request: Request[Any, Any, Any],
                         db_session: NamedDependency[AsyncSession],
                         settings: NamedDependency[Settings]) -> Response[Any]:
        if await self._owner(request, db_session, settings) is None:
            return self._login_redirect(request)
        return self._page(request, "rider.html", form={}, errors={})

    @post("/my/riders/new", operation_id="NewRiderSubmit", summary="Add a rider (form)")
    async def add_rider(self, request: Request[Any, Any, Any], data: Form,
                        db_session: NamedDependency[AsyncSession],
                        settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        form = {k: v.strip() for k, v in data.items()}
        try:
            await OwnerService(db_session).add_rider(signed_in[0], _model(schemas.RiderIn, {
                "name": form.get("name", ""), "birth_date": form.get("birth_date", ""),
                "guardian_name": form.get("guardian_name", ""),
                "guardian_consent": form.get("guardian_consent") == "on"}))
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()
            return self._page(request, "rider.html", status=422, form=form,
                              errors=_errors_of(exc))
        return Redirect("/my", status_code=303)

    async def _enter_page(self, request: Request[Any, Any, Any], session: AsyncSession,
                          owner: Owner, actor: Actor, status: int = 200, **context: Any
                          ) -> Template:
        horses, _ = await HorseService(session).search(actor, limit=200, offset=0)
        riders = await OwnerService(session).riders(owner.id)
        context.setdefault("form", {})
        context.setdefault("failures", [])
        context.setdefault("error", None)
        form = context["form"]
        # The races for the chosen (else the first) horse and rider: those they may enter
        # first, then the others with the reasons they may not.
        horse = next((h for h in horses if h.id == form.get("horse_id")), None) or next(
            iter(horses), None)
        rider = next((r for r in riders if str(r.id) == form.get("rider_id")), None) or next(
            iter(riders), None)
        choices: list[RaceChoice] = []
        if horse is not None and rider is not None:
            horse_row = await session.get_one(Horse, uuid.UUID(horse.id))
            choices = await race_choices(session, owner, horse_row, rider, utcnow())
        form = {**form, "horse_id": horse.id if horse else "",
                "rider_id": str(rider.id) if rider else ""}
        context["form"] = form
        return self._page(request, "enter.html", status=status,
                          races=[(c.race, c.festival) for c in choices if c.eligible],
                          closed_to_pair=[c for c in choices if not c.eligible],
                          horses=horses, riders=riders, request_key=str(uuid.uuid4()),
                          refund_policy=fees.REFUND_POLICY, **context)

    @get("/my/enter", operation_id="EnterRacePage", summary="Enter a race (page)")
    async def enter_form(self, request: Request[Any, Any, Any],
                         db_session: NamedDependency[AsyncSession],
                         settings: NamedDependency[Settings],
                         horse_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
                         rider_id: Annotated[str | None, QueryParameter(max_length=64)] = None,
                         ) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        return await self._enter_page(request, db_session, *signed_in,
                                      form={"horse_id": horse_id or "",
                                            "rider_id": rider_id or ""})

    @post("/my/enter", operation_id="EnterRaceSubmit", summary="Enter a race (form)")
    async def enter(self, request: Request[Any, Any, Any], data: Form,
                    db_session: NamedDependency[AsyncSession],
                    settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        actor = signed_in[1]
        form = {k: v.strip() for k, v in data.items()}
        try:
            race = await RaceService(db_session).get(form.get("race_id", ""))
            created = await _entries(request, db_session, settings).create(
                actor, str(race.festival_id),
                _model(schemas.EntryIn, {k: form.get(k, "") for k in (
                    "race_id", "horse_id", "rider_id")}),
                idempotency_key=form.get("request_key") or None)
        except (PydanticValidationError, DomainError) as exc:
            await db_session.rollback()  # expires what was loaded: load the owner again
            owner = await OwnerService(db_session).for_user(actor.user_id)
            failures = exc.failures if isinstance(exc, Ineligible) else []
            error = None if failures else _errors_of(exc)
            return await self._enter_page(request, db_session, owner, actor, status=422,
                                          form=form, failures=failures, error=error)
        return Redirect(f"/my?entered={created.entry.id}", status_code=303)

    @post("/my/entries/{entry_id:str}/pay", operation_id="PayEntrySubmit",
          summary="Pay an entry's fee (form)")
    async def pay(self, request: Request[Any, Any, Any], entry_id: FromPath[str],
                  db_session: NamedDependency[AsyncSession],
                  settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        try:
            entry = await _entries(request, db_session, settings).pay(signed_in[1], entry_id)
        except DomainError:
            await db_session.rollback()
            return Redirect("/my", status_code=303)
        return Redirect(entry.checkout_url or "/my", status_code=303)

    @get("/my/entries/{entry_id:str}/withdraw", operation_id="WithdrawEntryPage",
         summary="Withdraw an entry: the refund first, then confirm (page)")
    async def withdraw_form(self, request: Request[Any, Any, Any], entry_id: FromPath[str],
                            db_session: NamedDependency[AsyncSession],
                            settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        try:
            refund = await withdrawal.preview(db_session, signed_in[1], entry_id)
            entry = await _entries(request, db_session, settings).detail(signed_in[1], entry_id)
        except DomainError:
            return Redirect("/my", status_code=303)
        return self._page(request, "withdraw.html", entry=entry, refund=refund)

    @post("/my/entries/{entry_id:str}/withdraw", operation_id="WithdrawEntrySubmit",
          summary="Withdraw an entry (form)")
    async def withdraw(self, request: Request[Any, Any, Any], entry_id: FromPath[str],
                       db_session: NamedDependency[AsyncSession],
                       settings: NamedDependency[Settings]) -> Response[Any]:
        signed_in = await self._owner(request, db_session, settings)
        if signed_in is None:
            return self._login_redirect(request)
        try:
            done = await _entries(request, db_session, settings).withdraw(
                signed_in[1], entry_id, "withdrawn online")
        except DomainError:
            await db_session.rollback()
            return Redirect("/my", status_code=303)
        return Redirect(f"/my?withdrawn={done.entry.id}&refund={done.refund.amount}",
                        status_code=303)


def _entries(request: Request[Any, Any, Any], session: AsyncSession,
             settings: Settings) -> EntryService:
    return EntryService(session, settings, Links.for_request(request, settings))


_SIGNUP_FIELDS = {"riders.0.name": "rider_name", "riders.0.birth_date": "rider_birth_date",
                  "riders.0.guardian_consent": "guardian_consent"}


def _model(model: type[BaseModel], values: dict[str, Any]) -> Any:
    return model(**values)


RULES = {
    "wrong_species": ("畜种不符合本项比赛", "This race is for another species"),
    "horse_too_young": ("马龄不足", "The horse is too young"),
    "horse_too_old": ("马龄超出", "The horse is too old"),
    "horse_too_small": ("肩高低于本组下限", "Below the height class"),
    "horse_too_tall": ("肩高超出本组上限", "Above the height class"),
    "not_local_horse": ("仅限本地马（{allowed}）", "Local horses only ({allowed})"),
    "not_local_county": ("仅限本地县（{allowed}）", "Local counties only ({allowed})"),
    "county_cap_reached": ("{county}报名已达每县{max}匹上限", "{county} has reached {max} horses"),
    "rider_too_young": ("骑手年龄不足", "The rider is too young"),
    "rider_too_old": ("骑手年龄超出", "The rider is too old"),
    "guardian_consent_missing": ("未满18岁骑手需监护人同意", "Riders under 18 need consent"),
    "horse_already_entered": ("这匹马已报名本项比赛", "This horse is already entered"),
    "rider_already_entered": ("这位骑手已在本项比赛骑乘另一匹马",
                              "This rider already rides in this race"),
}
ERRORS = {
    "username_taken": ("用户名已被使用", "This username is taken"),
    "mobile_taken": ("该手机号已注册，请登录", "This mobile number is registered; log in"),
    "microchip_taken": ("该芯片号已登记在另一匹马名下", "This microchip belongs to another horse"),
    "possible_duplicate": ("您已有同名同年出生的马。确认是另一匹马请勾选下方选项",
                           "You have a horse of this name and birth year. Tick the box below "
                           "if this is another horse"),
    "rider_exists": ("这位骑手已登记", "This rider is already registered"),
    "entries_closed": ("本项比赛报名已截止", "Entries for this race are closed"),
    "entries_not_open": ("本项比赛尚未开始报名", "Entries for this race are not open yet"),
    "not_found": ("未找到", "Not found"),
    "idempotency_key_reused": ("请刷新页面后重试", "Please reload the page and try again"),
    "race_busy": ("报名人数较多，请稍后再试", "Busy; try again in a moment"),
}

register({
    "zh": {
        "reg.signup": "马主注册", "reg.login": "马主登录", "reg.logout": "退出",
        "reg.name": "姓名", "reg.mobile": "手机号", "reg.province": "省（自治区、直辖市）",
        "reg.county": "县（区）", "reg.township": "乡镇",
        "reg.username": "用户名（可不填，默认手机号）",
        "reg.password": "密码（至少8位）", "reg.rider": "骑手", "reg.rider_name": "骑手姓名",
        "reg.birth_date": "出生日期", "reg.guardian_name": "监护人姓名",
        "reg.guardian_consent": "监护人同意（未满18岁必填）", "reg.submit_signup": "注册",
        "reg.login_name": "手机号或用户名", "reg.submit_login": "登录",
        "reg.no_account": "还没有账号？注册", "reg.have_account": "已有账号？登录",
        "login.failed": "手机号/用户名或密码错误", "login.not_owner": "此账号不是马主账号",
        "reg.my": "我的报名", "reg.hello": "{name}，您好", "reg.entries": "报名",
        "reg.no_entries": "还没有报名。", "reg.horses": "我的马匹",
        "reg.no_horses": "还没有登记马匹。",
        "reg.riders": "骑手", "reg.add_horse": "登记马匹", "reg.add_rider": "添加骑手",
        "reg.enter": "报名参赛", "reg.status": "状态", "reg.fee": "报名费",
        "reg.fee_due": "应付", "reg.pay": "去支付 {amount}", "reg.paid": "已付 {amount}",
        "reg.refunded": "已退 {amount}", "reg.waiting_no": "候补 {n} 号",
        "reg.withdraw": "退赛", "reg.total_due": "共需支付 {amount}",
        "reg.entered_ok": "报名成功！", "reg.horse_name_zh": "马名（中文）",
        "reg.horse_name_bo": "马名（藏文）", "reg.horse_name_en": "马名（英文）",
        "reg.species": "畜种", "reg.species.horse": "马", "reg.species.yak": "牦牛",
        "reg.sex": "性别", "reg.sex.stallion": "公马", "reg.sex.gelding": "骟马",
        "reg.sex.mare": "母马", "reg.birth_year": "出生年份", "reg.colour": "毛色",
        "reg.markings": "特征（别征）", "reg.breed": "品种", "reg.height_cm": "肩高（厘米）",
        "reg.microchip": "芯片号（15位数字，可不填）", "reg.passport": "马匹护照号（可不填）",
        "reg.origin_province": "马匹产地", "reg.confirm_duplicate": "确认这是另一匹马",
        "reg.save": "保存", "reg.race": "比赛", "reg.horse": "马匹", "reg.choose": "请选择",
        "reg.no_races": "目前没有开放报名的比赛。", "reg.places_left": "剩余 {n} 个名额",
        "reg.full": "已满，将进入候补", "reg.submit_enter": "提交报名",
        "reg.ineligible": "不符合参赛条件：", "reg.late": "（含逾期报名费）",
        "reg.refund_policy": "退费规则", "reg.form_error": "请检查以下内容",
        "reg.paid_ok": "报名费已付，{race}报名已确认。",
        "reg.show_races": "查看这匹马和骑手可报的比赛",
        "reg.closed_to_pair": "这匹马和骑手不能报名的比赛：",
        "reg.withdraw_title": "确认退赛",
        "reg.withdraw_refund": "现在退赛将退还 {amount}",
        "reg.withdraw_no_refund": "现在退赛不退费",
        "reg.withdraw_rule": "依据退费规则：",
        "reg.withdraw_confirm": "确认退赛",
        "reg.withdraw_keep": "不退赛，返回",
        "reg.withdrawn_ok": "已退赛：{race}。退还 {amount}。",
        "refund.nothing_paid": "尚未付款，无需退费。",
        "refund.before_close": "报名截止前退赛：退还除报名费外的已付费用。",
        "refund.after_close": "报名截止后退赛：不退费。",
        "refund.after_close_refilled": "报名截止后退赛，名额由候补递补：退还除报名费外的已付费用。",
        "refund.scratched": "组委会取消参赛：退还除报名费外的已付费用。",
        "reg.paid_waiting": "正在确认付款，请稍后刷新本页。",
    },
    "en": {
        "reg.signup": "Owner sign-up", "reg.login": "Owner log-in", "reg.logout": "Log out",
        "reg.name": "Name", "reg.mobile": "Mobile number", "reg.province": "Province",
        "reg.county": "County", "reg.township": "Township",
        "reg.username": "Username (optional; your mobile number by default)",
        "reg.password": "Password (8 characters or more)", "reg.rider": "Rider",
        "reg.rider_name": "Rider's name", "reg.birth_date": "Birth date",
        "reg.guardian_name": "Guardian's name",
        "reg.guardian_consent": "Guardian consents (needed under 18)",
        "reg.submit_signup": "Sign up", "reg.login_name": "Mobile number or username",
        "reg.submit_login": "Log in", "reg.no_account": "No account yet? Sign up",
        "reg.have_account": "Have an account? Log in",
        "login.failed": "Wrong mobile number/username or password",
        "login.not_owner": "This is not an owner account",
        "reg.my": "My entries", "reg.hello": "Hello, {name}", "reg.entries": "Entries",
        "reg.no_entries": "No entries yet.", "reg.horses": "My horses",
        "reg.no_horses": "No horses registered yet.", "reg.riders": "Riders",
        "reg.add_horse": "Add a horse", "reg.add_rider": "Add a rider",
        "reg.enter": "Enter a race", "reg.status": "Status", "reg.fee": "Entry fee",
        "reg.fee_due": "Due", "reg.pay": "Pay {amount}", "reg.paid": "Paid {amount}",
        "reg.refunded": "Refunded {amount}", "reg.waiting_no": "Waiting list no. {n}",
        "reg.withdraw": "Withdraw", "reg.total_due": "{amount} due in all",
        "reg.entered_ok": "Entered!", "reg.horse_name_zh": "Name (Chinese)",
        "reg.horse_name_bo": "Name (Tibetan)", "reg.horse_name_en": "Name (English)",
        "reg.species": "Species", "reg.species.horse": "Horse", "reg.species.yak": "Yak",
        "reg.sex": "Sex", "reg.sex.stallion": "Stallion", "reg.sex.gelding": "Gelding",
        "reg.sex.mare": "Mare", "reg.birth_year": "Birth year", "reg.colour": "Colour",
        "reg.markings": "Markings", "reg.breed": "Breed",
        "reg.height_cm": "Shoulder height (cm)",
        "reg.microchip": "Microchip (15 digits, optional)",
        "reg.passport": "Passport number (optional)", "reg.origin_province": "Province of origin",
        "reg.confirm_duplicate": "Yes, this is another horse", "reg.save": "Save",
        "reg.race": "Race", "reg.horse": "Horse", "reg.choose": "Choose",
        "reg.no_races": "No race is open for entries now.",
        "reg.places_left": "{n} places left", "reg.full": "Full: you join the waiting list",
        "reg.submit_enter": "Enter", "reg.ineligible": "Not eligible:",
        "reg.late": "(with the late fee)", "reg.refund_policy": "Refunds",
        "reg.form_error": "Please check the following",
        "reg.paid_ok": "Fee paid: your entry in {race} is confirmed.",
        "reg.show_races": "Show the races this horse and rider may enter",
        "reg.closed_to_pair": "Races this horse and rider may not enter:",
        "reg.withdraw_title": "Withdraw this entry?",
        "reg.withdraw_refund": "Withdrawing now refunds {amount}",
        "reg.withdraw_no_refund": "Withdrawing now refunds nothing",
        "reg.withdraw_rule": "By the published rule:",
        "reg.withdraw_confirm": "Yes, withdraw",
        "reg.withdraw_keep": "No, keep the entry",
        "reg.withdrawn_ok": "Withdrawn: {race}. Refund: {amount}.",
        "refund.nothing_paid": "Nothing paid yet: nothing to refund.",
        "refund.before_close": "Before the entries close: everything paid back except the "
                               "registration fee.",
        "refund.after_close": "After the entries close: nothing is refunded.",
        "refund.after_close_refilled": "After the close, but the place is refilled from the "
                                       "waiting list: everything but the registration fee.",
        "refund.scratched": "Scratched by the organiser: everything but the registration fee.",
        "reg.paid_waiting": "Confirming your payment; reload this page in a moment.",
    },
})

register({"zh": {f"rule.{k}": zh for k, (zh, _) in RULES.items()},
          "en": {f"rule.{k}": en for k, (_, en) in RULES.items()}})
register({"zh": {f"error.{k}": zh for k, (zh, _) in ERRORS.items()},
          "en": {f"error.{k}": en for k, (_, en) in ERRORS.items()}})

