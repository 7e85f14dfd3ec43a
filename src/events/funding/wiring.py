"""Funding hears of prize payouts and asks results what is owed.

Kept apart from ``funding.services`` so that neither domain imports the other at module
level both ways: results knows nothing of funding; funding registers itself here.
"""

from events.funding import services as funding_services
from events.results import payouts


def connect() -> None:
    """Post each prize payout marked paid to the ledger (in the same transaction), and
    take prize money owed and paid from results' entitlements. Idempotent."""
    payouts.register_payout_listener(funding_services.on_payout_paid)
    funding_services.use_prize_money_provider(payouts.prize_money_totals)
