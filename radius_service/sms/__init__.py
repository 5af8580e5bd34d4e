"""SMS gateways: one interface over the Kenyan providers (Africa's Talking, Advanta/Celcom)."""
