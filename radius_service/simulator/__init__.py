"""Simulated peers of the site service (a MikroTik-like RADIUS NAS), for tests and demos."""
