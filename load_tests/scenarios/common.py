"""What every scenario shares: the demo festival's id, found once per user."""

from typing import Any

from locust import HttpUser

DEMO_SLUG = "dangjiren-2027"


def demo_festival(user: HttpUser) -> dict[str, Any]:
    with user.client.get(
        "/api/v1/festivals?q=" + DEMO_SLUG, name="/api/v1/festivals?q", catch_response=True
    ) as response:
        items = response.json().get("items", []) if response.ok else []
        if not items:
            response.failure("the demo festival is not loaded")
            return {}
        response.success()
        summary: dict[str, Any] = items[0]
        return summary
