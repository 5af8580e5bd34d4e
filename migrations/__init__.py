"""Alembic migrations (dated revision names; constraint names from the models' convention)."""
