"""Schema revisions: run migrations and refuse to work against an unknown schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from easyisp_core.errors import SchemaMismatch

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        # env.py reuses this engine instead of building its own from a URL.
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    command.upgrade(alembic_config(engine), target)


def downgrade(engine: Engine, target: str) -> None:
    command.downgrade(alembic_config(engine), target)


def check_schema(engine: Engine) -> str:
    """Return the current revision, or raise SchemaMismatch with the command that fixes it."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return current
    if current is None:
        raise SchemaMismatch(
            "The database is empty (no EasyISP schema). Run `easyisp db upgrade` to create it."
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise SchemaMismatch(
            f"The database schema is at revision {current}, older than this program ({head}). "
            "Run `easyisp db upgrade`."
        )
    raise SchemaMismatch(
        f"The database schema is at revision {current}, which this program does not know "
        f"(it expects {head}). The database was upgraded by a newer EasyISP: "
        "install the same version here."
    )
