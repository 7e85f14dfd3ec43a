"""Live results tests arrange races with the results tests' own fixtures."""

from tests.results.conftest import make_race, official

__all__ = ["make_race", "official"]
