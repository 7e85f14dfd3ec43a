"""Imports every table model so that the metadata is complete (migrations, tests).

Each domain adds its ``models`` module here.
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

__all__ = ["access_models", "audit_models", "award_models", "checkin_models", "festival_models",
           "funding_models", "metadata", "payment_models", "registration_models",
           "results_models", "ticketing_models"]
