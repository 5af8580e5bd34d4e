"""Safaricom Daraja (M-Pesa) client: OAuth token, STK Push and Query, C2B, Transaction Status."""
