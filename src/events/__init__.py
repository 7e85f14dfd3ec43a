"""events: run horse-racing festivals and cultural-tourism events end to end."""

__version__ = "0.1.0"
