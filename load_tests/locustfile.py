"""Locust user journeys against a local server (`make load` starts one and runs these).

Journeys, not ceilings: one locust process tops out near 2k req/s (HttpUser) on this
2-core box (perf.md §3), so capacity figures come from `make bench` (wrk).
"""

from load_tests.scenarios.organisers import Organiser  # noqa: F401
from load_tests.scenarios.spectators import Spectator  # noqa: F401
