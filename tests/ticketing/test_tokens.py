"""The signed QR token: the documented format, verification, keys and rotation."""

import base64
import datetime as dt
import uuid
from pathlib import Path

import pytest
import qrcode.util
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from events.config import ConfigurationError, Settings
from events.db.engine import Database
from events.ticketing import keys as keys_module
from events.ticketing import media, tokens
from events.ticketing.keys import KeyService
from events.ticketing.tokens import TokenClaims, TokenInvalid, TokenKey, verify_token
from tests.conftest import Client
from tests.ticketing.conftest import Catalog, buy, pay

DOCS = Path(__file__).resolve().parents[2] / "docs" / "tickets.md"
SEED = bytes(range(32))
FESTIVAL = uuid.UUID("0f5e6a52-6a0b-4c1e-9d55-2a3c6c0d7e01")
TICKET = uuid.UUID("7c2f8b1e-3d4a-4b6c-8e9f-0a1b2c3d4e5f")
VECTOR = (
    "AEAAO7BPRMPD2SSLNSHJ6CQ3FQ6U4XYAAEBACASRZBJBXD7L7UTXZOXHNEWBSWWRMFZNPTWFVVDL4GM7CD"
    "W27PSX4DATJP5HNFLQEGKULM67HMLJEZATOOBYSD7ALECVII7WC7O4PB6P2AICPEFQ"
)
DAYS = (dt.date(2027, 4, 28), dt.date(2027, 7, 20))


def key_pair() -> tuple[Ed25519PrivateKey, dict[int, TokenKey]]:
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return private, {7: TokenKey(kid=7, festival_id=FESTIVAL, public_key=public)}


def test_the_documented_test_vector_is_what_the_code_signs_and_verifies() -> None:
    private, keys = key_pair()
    token = tokens.sign_token(
        private,
        festival_id=FESTIVAL,
        kid=7,
        ticket_id=TICKET,
        serial=1,
        enclosure=2,
        flags=tokens.FLAG_CHILD,
        days=DAYS,
    )
    assert token == VECTOR
    docs = DOCS.read_text()
    assert VECTOR in docs
    assert base64.b64encode(keys[7].public_key).decode() in docs
    raw = base64.b32decode(VECTOR + "=" * (-len(VECTOR) % 8))
    assert raw[:28].hex() in docs
    assert verify_token(VECTOR, keys) == TokenClaims(
        kid=7, festival_id=FESTIVAL, ticket_id=TICKET, serial=1, enclosure=2, flags=1, days=DAYS
    )
    assert verify_token(VECTOR.lower(), keys) == verify_token(VECTOR, keys)


def test_any_changed_character_or_another_festival_fails() -> None:
    _, keys = key_pair()
    for position in (0, 5, 30, 60, 100, len(VECTOR) - 1):
        flipped = "B" if VECTOR[position] != "B" else "C"
        forged = VECTOR[:position] + flipped + VECTOR[position + 1 :]
        assert isinstance(verify_token(forged, keys), TokenInvalid), position
    other = {7: TokenKey(kid=7, festival_id=uuid.uuid4(), public_key=keys[7].public_key)}
    assert verify_token(VECTOR, other) == TokenInvalid.BAD_SIGNATURE
    stranger = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert verify_token(VECTOR, {7: TokenKey(7, FESTIVAL, stranger)}) == (
        TokenInvalid.BAD_SIGNATURE
    )
    assert verify_token(VECTOR, {8: keys[7]}) == TokenInvalid.UNKNOWN_KEY


@pytest.mark.parametrize(
    "scanned",
    [
        "",
        "hello",
        "1234567890",
        "A" * 401,
        "AEAA" + "!" * 140,
        VECTOR[:-8],
        VECTOR + "AAAAAAAA",
        "https://example.com/ticket",
        "\x00" * 10,
        str(TICKET),
    ],
)
def test_malformed_input_is_refused_never_raised(scanned: str) -> None:
    _, keys = key_pair()
    assert verify_token(scanned, keys) in (
        TokenInvalid.MALFORMED,
        TokenInvalid.UNKNOWN_KEY,
        TokenInvalid.BAD_SIGNATURE,
    )


def test_the_format_refuses_values_it_cannot_carry() -> None:
    private, _ = key_pair()
    common = {"festival_id": FESTIVAL, "ticket_id": TICKET, "flags": 0}
    for bad in (
        {"kid": 70000, "serial": 1, "enclosure": 1, "days": DAYS},
        {"kid": 1, "serial": 0, "enclosure": 1, "days": DAYS},
        {"kid": 1, "serial": 1, "enclosure": 256, "days": DAYS},
        {"kid": 1, "serial": 1, "enclosure": 1, "days": []},
    ):
        with pytest.raises(ValueError, match=r"fit|valid on"):
            tokens.sign_token(private, **common, **bad)  # type: ignore[arg-type]


def test_a_day_ticket_is_a_small_alphanumeric_qr() -> None:
    code = media._qr(VECTOR)
    assert [segment.mode for segment in code.data_list] == [qrcode.util.MODE_ALPHA_NUM]
    assert code.version <= 6


async def test_issued_tickets_verify_with_the_festivals_public_keys(
    client: Client, catalog: Catalog, db: Database, settings: Settings
) -> None:
    order = await pay(client, await buy(client, catalog, [(catalog.pass_, 1), (catalog.stand1, 1)]))
    async with db.transaction() as session:
        keys = await KeyService(session, settings).public_keys(uuid.UUID(catalog.festival_id))
    assert len(keys) == 1
    by_type = {t["ticket_type_id"]: t for t in order["tickets"]}
    pass_claims = verify_token(by_type[catalog.pass_["id"]]["token"], keys)
    assert isinstance(pass_claims, TokenClaims)
    assert pass_claims.ticket_id == uuid.UUID(by_type[catalog.pass_["id"]]["id"])
    assert pass_claims.festival_id == uuid.UUID(catalog.festival_id)
    assert pass_claims.enclosure == catalog.ground["number"]
    assert [d.isoformat() for d in pass_claims.days] == [d["date"] for d in catalog.days]
    stand = verify_token(by_type[catalog.stand1["id"]]["token"], keys)
    assert isinstance(stand, TokenClaims)
    assert (stand.enclosure, stand.days) == (
        catalog.grandstand["number"],
        (dt.date.fromisoformat(catalog.days[0]["date"]),),
    )
    # The private key is stored sealed with the app secret, never in the clear.
    async with db.engine.connect() as conn:
        from sqlalchemy import text

        public_b64, sealed = (
            await conn.execute(
                text("SELECT public_key, private_key_sealed FROM ticket_signing_key")
            )
        ).one()
    associated = uuid.UUID(catalog.festival_id).bytes + base64.b64decode(public_b64)
    raw = keys_module.unseal(settings, keys_module.SIGNING_KEY_INFO, sealed, associated)
    assert Ed25519PrivateKey.from_private_bytes(raw).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ) == base64.b64decode(public_b64)
    assert raw not in base64.b64decode(sealed)
    other = settings.model_copy(update={"secret_key": SecretStr("another-secret-" * 4)})
    with pytest.raises(ConfigurationError, match="EVENTS_SECRET_KEY changed"):
        keys_module.unseal(other, keys_module.SIGNING_KEY_INFO, sealed, associated)


async def test_a_rotated_key_signs_new_tickets_and_the_old_one_still_verifies(
    client: Client, organiser: dict[str, str], catalog: Catalog
) -> None:
    first = await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    rotated = await client.post(
        f"/api/v1/festivals/{catalog.festival_id}/ticket-keys/rotate", headers=organiser
    )
    assert rotated.status_code == 200
    keys_listed = rotated.json()["keys"]
    assert [k["active"] for k in keys_listed] == [False, True]
    second = await pay(client, await buy(client, catalog, [(catalog.day1, 1)]))
    public = {
        k["kid"]: TokenKey(
            kid=k["kid"],
            festival_id=uuid.UUID(catalog.festival_id),
            public_key=base64.b64decode(k["public_key"]),
        )
        for k in keys_listed
    }
    old = verify_token(first["tickets"][0]["token"], public)
    new = verify_token(second["tickets"][0]["token"], public)
    assert isinstance(old, TokenClaims)
    assert isinstance(new, TokenClaims)
    assert (old.kid, new.kid) == (keys_listed[0]["kid"], keys_listed[1]["kid"])
    assert (
        await client.post(f"/api/v1/festivals/{catalog.festival_id}/ticket-keys/rotate")
    ).status_code == 401
