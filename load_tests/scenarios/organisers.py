"""Organisers: sign in, then read the festival's configuration."""

from typing import Any

from locust import FastHttpUser, between, task

from load_tests.scenarios.common import demo_festival


class Organiser(FastHttpUser):
    weight = 1
    wait_time = between(1, 3)
    festival: dict[str, Any]
    headers: dict[str, str]

    def on_start(self) -> None:
        response = self.client.post(
            "/api/v1/auth/login", json={"username": "organiser", "password": "organiser-demo-2027"}
        )
        token = response.json().get("access_token", "") if response.ok else ""
        self.headers = {"Authorization": f"Bearer {token}"}
        self.festival = demo_festival(self)

    @task
    def users(self) -> None:
        self.client.get("/api/v1/users?limit=50", headers=self.headers, name="/api/v1/users")
