"""Payments: Stripe, cash and a test provider; webhooks, refunds, reconciliation."""
