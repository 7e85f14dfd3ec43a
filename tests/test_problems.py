"""Every error is Problem Details with a stable code; nothing internal leaks."""

from typing import Annotated

import pytest
from asgi_lifespan import LifespanManager
from litestar import get, post
from litestar.params import HeaderParameter, JSONBody
from sqlalchemy import text

from events.app import create_app
from events.config import Settings
from tests.conftest import Client, serve


@get("/boom", operation_id="Boom", include_in_schema=False)
async def boom() -> None:
    raise RuntimeError("secret internals: password=hunter2")


@post("/sql-boom", operation_id="SqlBoom", include_in_schema=False)
async def sql_boom(data: JSONBody[dict[str, int]]) -> None:
    from events.db.engine import Database

    database = Database("sqlite+aiosqlite:///:memory:")
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        await database.dispose()


@get("/needs-header", operation_id="NeedsHeader", include_in_schema=False)
async def needs_header(key: Annotated[str, HeaderParameter(name="X-Key", max_length=4)]) -> str:
    return key


SOURCES = ("body", "query", "path", "header")


def _sources(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    assert body["code"] == "validation_failed", body
    return [e["source"] for e in body["errors"]]


async def test_a_bad_query_parameter_names_the_query(client: Client) -> None:
    for url in (
        "/api/v1/festivals?limit=0",
        "/api/v1/festivals?offset=-1",
        "/api/v1/festivals?q=" + "x" * 101,
    ):
        response = await client.get(url)
        assert response.status_code == 422
        assert _sources(response) == ["query"], url


async def test_a_bad_body_field_names_the_body(client: Client, organiser: dict[str, str]) -> None:
    wrong_type = await client.post("/api/v1/festivals", json={"name_zh": 1}, headers=organiser)
    assert wrong_type.status_code == 422
    assert set(_sources(wrong_type)) == {"body"}
    # A domain rule (services raise ValidationFailed) names the body too.
    bad_zone = await client.post(
        "/api/v1/festivals",
        headers=organiser,
        json={"slug": "zone", "name_zh": "节", "name_en": "Fest", "timezone": "Mars/Olympus"},
    )
    assert bad_zone.status_code == 422
    assert _sources(bad_zone) == ["body"]


async def test_a_bad_header_names_the_header(settings: Settings) -> None:
    app = create_app(settings, extra_route_handlers=[needs_header])
    async with serve(app) as client:
        too_long = await client.get("/needs-header", headers={"X-Key": "abcdefgh"})
        missing = await client.get("/needs-header")
    for response in (too_long, missing):
        assert response.status_code in (400, 422)
        if response.status_code == 422:
            assert _sources(response) == ["header"]
    assert too_long.status_code == 422


async def test_every_source_is_one_of_four() -> None:
    from litestar.enums import ParamType

    from events.problems import error_source

    assert {p: error_source(p) for p in ParamType} == {
        ParamType.PATH: "path",
        ParamType.QUERY: "query",
        ParamType.COOKIE: "header",
        ParamType.HEADER: "header",
        ParamType.DEPENDENCY: "body",
    }
    assert [error_source(s) for s in (None, "", "body", "QUERY", "weird")] == [
        "body",
        "body",
        "body",
        "query",
        "body",
    ]
    assert set(map(error_source, ParamType)) <= set(SOURCES)


async def test_unknown_route_is_404_problem(client: Client) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "not_found"
    assert body["status"] == 404
    assert body["type"] == "urn:events:problem:not_found"


async def test_wrong_method_is_405_problem(client: Client) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


async def test_malformed_json_is_400(client: Client, organiser: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/festivals",
        content=b'{"slug": "x",',
        headers={**organiser, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


async def test_unexpected_error_is_500_without_internals(settings: Settings) -> None:
    app = create_app(settings, extra_route_handlers=[boom, sql_boom])
    async with serve(app) as client:
        response = await client.get("/boom")
        sql_response = await client.post("/sql-boom", json={"a": 1})
    for r in (response, sql_response):
        assert r.status_code == 500
        body = r.json()
        assert body["code"] == "internal_error"
        assert "hunter2" not in r.text
        assert "no_such_table" not in r.text
        assert "Traceback" not in r.text


async def test_oversized_body_is_413(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_request_body_bytes": 1024}))
    async with serve(app) as client:
        response = await client.post(
            "/api/v1/auth/login", content=b"x" * 5000, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_a_client_that_hangs_up_mid_body_is_not_an_internal_error(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)
    sent: list[dict[str, object]] = []
    messages = iter(
        [
            {"type": "http.request", "body": b'{"username": "a"', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/auth/login",
        "raw_path": b"",
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    async with LifespanManager(app):
        with caplog.at_level("INFO", logger="events.errors"):
            await app(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 499
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
