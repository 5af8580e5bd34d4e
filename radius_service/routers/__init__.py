"""Talking to MikroTik routers over the RouterOS API (8728 / API-SSL 8729)."""
