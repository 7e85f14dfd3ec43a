"""Fixtures of the hostile-input tests: the ticketing catalogue and gate devices."""

from tests.checkin.conftest import gates  # noqa: F401 (fixture)
from tests.registration.conftest import (  # noqa: F401 (fixture)
    add_horse,
    make_race,
    sign_up,
)
from tests.ticketing.conftest import catalog  # noqa: F401 (fixture)
