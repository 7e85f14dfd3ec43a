"""Fixtures of the hostile-input tests: the ticketing catalogue and gate devices."""

from tests.checkin.conftest import gates  # noqa: F401 (fixture)
from tests.registration.conftest import make_race  # noqa: F401 (fixture)
from tests.ticketing.conftest import catalog  # noqa: F401 (fixture)
