"""People and devices: users with roles, login tokens, gate devices."""
