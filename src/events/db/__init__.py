"""Database: engine, sessions, table conventions and migrations."""
