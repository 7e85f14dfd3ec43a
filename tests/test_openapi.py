"""The OpenAPI schema is the contract: every route documented, named and tagged."""

from tests.conftest import Client


async def test_every_route_has_an_operation_id_a_tag_and_a_summary(client: Client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    operations = [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) >= 15
    for path, method, op in operations:
        assert op.get("operationId"), f"{method} {path} has no operation id"
        assert op.get("tags"), f"{method} {path} has no tag"
        assert op.get("summary"), f"{method} {path} has no summary"
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)), "operation ids must be unique"


async def test_error_responses_are_documented_as_problem_details(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    get_festival = schema["paths"]["/api/v1/festivals/{festival_id}"]["get"]
    not_found = get_festival["responses"]["404"]
    assert "application/problem+json" in not_found["content"]
    assert "ProblemDetail" in str(not_found["content"]["application/problem+json"]["schema"])
    assert "BearerToken" in schema["components"]["securitySchemes"]
    assert "DeviceToken" in schema["components"]["securitySchemes"]


CURSOR_FEEDS = {"ListTicketKeys"}
"""Not pages: a document the offline scanner syncs with a cursor (``since``)."""


async def test_every_list_is_a_page_of_items_total_limit_offset(client: Client) -> None:
    """No route answers a bare JSON array, and every ``List...`` route answers
    ``{items, total, limit, offset}`` and takes ``limit`` and ``offset``."""
    schema = (await client.get("/schema/openapi.json")).json()
    components = schema["components"]["schemas"]
    lists, wrong = [], []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            answer = next((op["responses"][s] for s in ("200", "201") if s in op["responses"]), {})
            body = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in body:
                body = components[body["$ref"].rsplit("/", 1)[1]]
            assert body.get("type") != "array", f"{method} {path} answers a bare array"
            if op["operationId"].startswith("List") and op["operationId"] not in CURSOR_FEEDS:
                lists.append(op["operationId"])
                names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
                if not {"items", "total", "limit", "offset"} <= set(body.get("properties", {})):
                    wrong.append(f"{op['operationId']} is not a page")
                elif not {"limit", "offset"} <= names:
                    wrong.append(f"{op['operationId']} takes no limit/offset")
    assert wrong == []
    assert {
        "ListDevices",
        "ListRaces",
        "ListProvinces",
        "ListMyEntries",
        "ListEnclosures",
        "ListTicketTypes",
        "ListQuotas",
        "ListFestivals",
    } <= set(lists)


async def test_every_route_documents_its_problems_as_problem_json(client: Client) -> None:
    """Issue 17 item 12: 400/422 everywhere, 401/403 where a credential is needed, and no
    error body documented as plain ``application/json``."""
    schema = (await client.get("/schema/openapi.json")).json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or path == "/health":
                continue
            responses = op["responses"]
            wanted = {"400", "422"} | ({"401", "403"} if op.get("security") else set())
            assert wanted <= set(responses), f"{method} {path}: {sorted(responses)}"
            for status, response in responses.items():
                if status[0] in "45":
                    assert list(response.get("content", {})) == ["application/problem+json"], (
                        f"{method} {path} {status}"
                    )
