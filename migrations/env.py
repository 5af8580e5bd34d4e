"""Alembic environment: reuses the app's engine when given one, else EASYISP_DATABASE_URL."""

from __future__ import annotations

import re
from typing import Any

from alembic import context
from sqlalchemy import Connection

from easyisp_core.models import Base

# Objects that migrations manage by SQL rather than through the models: monthly partitions
# (created ahead of time by easyisp_ensure_partitions) and the FreeRADIUS-compatible views.
_UNMODELLED_TABLE = re.compile(r"^(sessions|sms_logs)_(p\d{6}|default)$")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table" and name is not None:
        return not _UNMODELLED_TABLE.match(name)
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        compare_type=True,
        compare_server_default=False,
        transaction_per_migration=True,
    )


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from easyisp_core.db.engine import make_engine
        from easyisp_core.settings import get_settings

        url = context.config.get_main_option("sqlalchemy.url") or get_settings().database_url
        if not url:
            raise SystemExit("Set EASYISP_DATABASE_URL, or use `easyisp db upgrade`.")
        engine = make_engine(url, application_name="easyisp-migrate")
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run them online.")
run_migrations_online()
