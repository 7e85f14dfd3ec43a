"""Audit: who changed what, when; one entry per successful staff change, in its transaction."""
