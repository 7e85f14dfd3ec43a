"""Gate check-in: scans decided once in the database, an append-only scan log, offline sync."""
