"""Festivals: meetings, days, venue and gates."""
