"""Owners, riders and horses; races, entries, eligibility, imports and exports."""
