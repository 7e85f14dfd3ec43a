"""Ticketing: enclosures, ticket types, capacity quotas, orders, signed QR tickets."""
