"""Spectators on their phones: the festival page, its details."""

from typing import Any

from locust import FastHttpUser, between, task

from load_tests.scenarios.common import demo_festival


class Spectator(FastHttpUser):
    weight = 10
    wait_time = between(0.5, 2)
    festival: dict[str, Any]

    def on_start(self) -> None:
        self.festival = demo_festival(self)

    @task(3)
    def festival_details(self) -> None:
        if self.festival:
            self.client.get(
                f"/api/v1/festivals/{self.festival['id']}", name="/api/v1/festivals/[id]"
            )

    @task(1)
    def home_page(self) -> None:
        self.client.get("/", name="/ (page)")
