"""Every domain's tables in one metadata, for the migrations and the tests.

It stands above the domains (it imports them all), so nothing below imports it: the
application gets its tables by importing the domains, Alembic's ``env.py`` and the test
fixtures import this module. A new domain adds its ``models`` module here.
"""

from events.access import models as access_models
from events.audit import models as audit_models
from events.awards import models as award_models
from events.checkin import models as checkin_models
from events.db.base import metadata
from events.festivals import models as festival_models
from events.funding import models as funding_models
from events.payments import models as payment_models
from events.registration import models as registration_models
from events.results import models as results_models
from events.ticketing import models as ticketing_models

__all__ = [
    "access_models",
    "audit_models",
    "award_models",
    "checkin_models",
    "festival_models",
    "funding_models",
    "metadata",
    "payment_models",
    "registration_models",
    "results_models",
    "ticketing_models",
]
