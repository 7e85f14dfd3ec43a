"""Secrets at rest: the festivals' signing keys and the orders' access tokens.

Both are sealed with AES-256-GCM under keys derived (HKDF-SHA256) from the app secret
(``EVENTS_SECRET_KEY``), one derived key per use, the row's identity as associated data:
a database dump alone neither signs tickets nor opens orders. Changing the app secret
makes the sealed values unreadable: rotate the signing keys (``KeyService.rotate``)
afterwards; old orders' links then stop being replayable but their hashes still verify.

Signing keys: one active Ed25519 key per festival signs new tokens; retired keys keep
verifying the tokens they signed. ``kid`` is the key's number, carried in every token.
"""

import base64
import functools
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel.ext.asyncio.session import AsyncSession

from events.config import ConfigurationError, Settings
from events.db.base import utcnow
from events.db.upsert import insert
from events.ticketing.models import KEYS
from events.ticketing.tokens import TokenKey

SIGNING_KEY_INFO = b"events.ticketing.signing-key.v1"
ACCESS_TOKEN_INFO = b"events.ticketing.access-token.v1"
MAX_KID = 0xFFFF


def _derived(settings: Settings, info: bytes) -> AESGCM:
    return _derived_from(settings.signing_key(), info)


@functools.lru_cache(maxsize=16)
def _derived_from(secret: str, info: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret.encode())
    return AESGCM(key)


def seal(settings: Settings, info: bytes, plaintext: bytes, associated: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(
        nonce + _derived(settings, info).encrypt(nonce, plaintext, associated)
    ).decode()


def unseal(settings: Settings, info: bytes, sealed: str, associated: bytes) -> bytes:
    raw = base64.b64decode(sealed)
    try:
        return _derived(settings, info).decrypt(raw[:12], raw[12:], associated)
    except InvalidTag:
        raise ConfigurationError(
            "A sealed ticketing secret cannot be opened: EVENTS_SECRET_KEY changed since it "
            "was stored. Rotate the festival's signing key."
        ) from None


# --- access tokens ----------------------------------------------------------------------


def new_access_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_access_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_matches(token: str | None, stored_hash: str) -> bool:
    if not token or len(token) > 200:
        return False
    return hmac.compare_digest(hash_access_token(token), stored_hash)


def seal_access_token(settings: Settings, order_id: uuid.UUID, token: str) -> str:
    return seal(settings, ACCESS_TOKEN_INFO, token.encode(), order_id.bytes)


def unseal_access_token(settings: Settings, order_id: uuid.UUID, sealed: str) -> str:
    return unseal(settings, ACCESS_TOKEN_INFO, sealed, order_id.bytes).decode()


# --- signing keys -----------------------------------------------------------------------

_private_keys: dict[tuple[int, str], Ed25519PrivateKey] = {}
"""Unsealed private keys by (kid, sealed value): unsealing costs an HKDF per call."""


def _public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _private_key(
    settings: Settings, kid: int, festival_id: uuid.UUID, public_key: str, sealed: str
) -> Ed25519PrivateKey:
    cached = _private_keys.get((kid, sealed))
    if cached is not None:
        return cached
    raw = unseal(
        settings, SIGNING_KEY_INFO, sealed, festival_id.bytes + base64.b64decode(public_key)
    )
    private_key = Ed25519PrivateKey.from_private_bytes(raw)
    if len(_private_keys) > 256:
        _private_keys.clear()
    _private_keys[(kid, sealed)] = private_key
    return private_key


private_key = _private_key
"""The festival key's private half from its stored row (unsealed once, then cached)."""


class KeyService:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def signing_key(self, festival_id: uuid.UUID) -> tuple[int, Ed25519PrivateKey]:
        """The festival's active key, made on first use (concurrent first uses agree)."""
        conn = await self.session.connection()
        row = (
            await conn.execute(
                sa.select(KEYS.c.kid, KEYS.c.public_key, KEYS.c.private_key_sealed).where(
                    KEYS.c.festival_id == festival_id, KEYS.c.active
                )
            )
        ).first()
        if row is None:
            await self._insert_key(festival_id)
            row = (
                await conn.execute(
                    sa.select(KEYS.c.kid, KEYS.c.public_key, KEYS.c.private_key_sealed).where(
                        KEYS.c.festival_id == festival_id, KEYS.c.active
                    )
                )
            ).one()
        kid, public_key, sealed = row
        if kid > MAX_KID:
            raise ConfigurationError(f"Signing key number {kid} no longer fits a token.")
        return kid, _private_key(self.settings, kid, festival_id, public_key, sealed)

    async def _insert_key(self, festival_id: uuid.UUID) -> None:
        """A new active key, unless one is active already (a concurrent first use or
        rotation waits for the other's commit, then does nothing)."""
        private_key = Ed25519PrivateKey.generate()
        public = _public_bytes(private_key)
        raw_private = private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        values = {
            "festival_id": festival_id,
            "public_key": base64.b64encode(public).decode(),
            "private_key_sealed": seal(
                self.settings, SIGNING_KEY_INFO, raw_private, festival_id.bytes + public
            ),
            "active": True,
            "created_at": utcnow(),
        }
        conn = await self.session.connection()
        await conn.execute(
            insert(conn, KEYS)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["festival_id"], index_where=sa.text("active"))
        )

    async def rotate(self, festival_id: uuid.UUID) -> int:
        """Retire the active key and make a new one; returns the new kid. Tokens already
        issued stay valid (their key still verifies); new tickets get the new key."""
        conn = await self.session.connection()
        await conn.execute(
            sa.update(KEYS)
            .where(KEYS.c.festival_id == festival_id, KEYS.c.active)
            .values(active=False, retired_at=utcnow())
        )
        await self._insert_key(festival_id)
        kid, _ = await self.signing_key(festival_id)
        return kid

    async def public_keys(self, festival_id: uuid.UUID) -> dict[int, TokenKey]:
        """Every key that verifies this festival's tokens, by kid."""
        conn = await self.session.connection()
        rows = await conn.execute(
            sa.select(KEYS.c.kid, KEYS.c.public_key).where(KEYS.c.festival_id == festival_id)
        )
        return {
            kid: TokenKey(kid=kid, festival_id=festival_id, public_key=base64.b64decode(public_key))
            for kid, public_key in rows
        }

    async def key_rows(self, festival_id: uuid.UUID) -> list[Mapping[str, Any]]:
        conn = await self.session.connection()
        rows = await conn.execute(
            sa.select(
                KEYS.c.kid, KEYS.c.public_key, KEYS.c.active, KEYS.c.created_at, KEYS.c.retired_at
            )
            .where(KEYS.c.festival_id == festival_id)
            .order_by(KEYS.c.kid)
        )
        return [dict(row._mapping) for row in rows]
