"""Rules for users, logins and gate devices. Services flush; the request commits."""

import re
import time
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from events.access import security
from events.access.models import Device, Role, User
from events.access.principal import Principal
from events.access.throttle import LoginThrottle
from events.db.base import utcnow
from events.db.engine import Database
from events.db.fast import Statement, fetchrow
from events.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from events.ids import parse_id

_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")


def _as_mobile(text: str) -> str | None:
    """The 11 digits when ``text`` is a mainland China mobile number."""
    match = _MOBILE.fullmatch(re.sub(r"[\s()-]", "", text))
    return match.group(1) if match else None


class UserService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        username: str,
        password: str,
        role: Role,
        display_name: str = "",
        mobile: str | None = None,
    ) -> User:
        """A new account. Usernames are unique whatever their case (``Organiser`` cannot
        sit beside ``organiser``), and a username that is a mobile number must be the
        account's own ``mobile``: nobody can take another person's number as a name."""
        looks_like = _as_mobile(username)
        if looks_like is not None and looks_like != _as_mobile(mobile or ""):
            raise ValidationFailed(
                [FieldError("username", "A mobile number can only name its own account.")],
                code="username_is_a_mobile",
            )
        taken = (
            await self.session.exec(
                select(User.id).where(func.lower(User.username) == username.lower())
            )
        ).first()
        if taken is not None:
            raise Conflict(f"The username {username!r} is already taken.", code="username_taken")
        user = User(
            username=username,
            password_hash=await security.hash_password_off_loop(password),
            role=role,
            display_name=display_name,
        )
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent sign-up took the name first
            raise Conflict(
                f"The username {username!r} is already taken.", code="username_taken"
            ) from exc
        return user

    async def get_by_username(self, username: str) -> User | None:
        result = await self.session.exec(select(User).where(User.username == username))
        return result.first()

    async def authenticate(
        self,
        username: str,
        password: str,
        *,
        throttle: LoginThrottle | None = None,
        address: str | None = None,
    ) -> User:
        """The user, or 401; with a ``throttle``, 429 ``login_throttled`` while failures
        from this account or address are being waited out (no hash computed then)."""
        if throttle is not None:
            await throttle.check(username, address)
        user = await self.get_by_username(username)
        stored = user.password_hash if user is not None else security.dummy_password_hash()
        matches = await security.verify_password_off_loop(stored, password)
        if user is None or not matches or not user.is_active:
            if throttle is not None:
                await throttle.failed(username, address)
            raise Unauthorized("Wrong username or password.", code="invalid_credentials")
        if throttle is not None:
            await throttle.succeeded(username, address)
        user.last_login_at = utcnow()
        self.session.add(user)
        return user

    async def list(
        self, *, limit: int, offset: int, role: Role | None = None
    ) -> tuple[Sequence[User], int]:
        query = select(User)
        count = select(func.count()).select_from(User)
        if role is not None:
            query = query.where(User.role == role)
            count = count.where(User.role == role)
        total = (await self.session.exec(count)).one()
        rows = await self.session.exec(
            query.order_by(col(User.username)).limit(limit).offset(offset)
        )
        return rows.all(), int(total)


class DeviceService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        *,
        festival_id: uuid.UUID,
        gate_id: uuid.UUID,
        name: str,
        created_by: uuid.UUID | None,
        token: str | None = None,
    ) -> tuple[Device, str]:
        """A device for a gate the caller has found (festivals owns gates: its route looks the
        gate up, then registers the device here), with a fresh token (``token``: one derived
        elsewhere, the demo's)."""
        token = token or security.new_device_token()
        device = Device(
            festival_id=festival_id,
            gate_id=gate_id,
            name=name,
            token_hash=security.hash_device_token(token),
            created_by=created_by,
        )
        self.session.add(device)
        await self.session.flush()
        return device, token

    async def list(
        self, festival_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Device], int]:
        where = Device.festival_id == festival_id
        total = (
            await self.session.exec(select(func.count()).select_from(Device).where(where))
        ).one()
        rows = await self.session.exec(
            select(Device)
            .where(where)
            .order_by(col(Device.created_at), col(Device.id))
            .limit(limit)
            .offset(offset)
        )
        return rows.all(), int(total)

    async def get(self, device_id: str) -> Device:
        device = await self.session.get(Device, parse_id(device_id, "device"))
        if device is None:
            raise NotFound(f"No device with id {device_id!r}.")
        return device

    async def revoke(self, device_id: str) -> Device:
        """Revoking twice is harmless: the first time stamp stays."""
        device = await self.get(device_id)
        if device.revoked_at is None:
            device.revoked_at = utcnow()
            self.session.add(device)
            await self.session.flush()
        forget_device(device.id)
        return device


_DEVICE_BY_TOKEN = Statement(
    "SELECT id, festival_id, gate_id FROM device WHERE token_hash = :token_hash "
    "AND revoked_at IS NULL",
    result_types={"id": sa.Uuid(), "festival_id": sa.Uuid(), "gate_id": sa.Uuid()},
)
DEVICE_CACHE_SECONDS = 30.0
"""How long a worker trusts a device token it has seen. Revocation is immediate in the
worker that revokes and for scans everywhere (the scan statement checks the device);
other routes in other workers notice within this time."""
_device_cache: dict[str, tuple[Principal, float]] = {}


async def resolve_device(db: Database, token: str) -> Principal | None:
    """The device a token belongs to, unless it is unknown or revoked (one indexed query,
    then cached briefly)."""
    token_hash = security.hash_device_token(token)
    cached = _device_cache.get(token_hash)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    row = await fetchrow(db, _DEVICE_BY_TOKEN, token_hash=token_hash)
    if row is None:
        _device_cache.pop(token_hash, None)
        return None
    principal = Principal(
        kind="device",
        id=row["id"],
        role=Role.GATE,
        festival_id=row["festival_id"],
        gate_id=row["gate_id"],
    )
    if len(_device_cache) > 10_000:
        _device_cache.clear()
    _device_cache[token_hash] = (principal, time.monotonic() + DEVICE_CACHE_SECONDS)
    return principal


def forget_device(device_id: uuid.UUID) -> None:
    """Drop a revoked device from this worker's cache."""
    for token_hash, (principal, _) in list(_device_cache.items()):
        if principal.id == device_id:
            _device_cache.pop(token_hash, None)


async def username_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """For other domains (an owner signing in by mobile): the account's username."""
    return (await session.exec(select(User.username).where(User.id == user_id))).first()


async def display_names(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """For other domains (who recorded a result): user id → display name, else username."""
    if not user_ids:
        return {}
    rows = (await session.exec(select(User).where(col(User.id).in_(list(user_ids))))).all()
    return {u.id: u.display_name or u.username for u in rows}
