"""Sponsors and the funding ledger: every yuan in and out, reconciled to the fen."""
