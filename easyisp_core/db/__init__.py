"""Database layer: engine, sessions per unit of work, embedded server, schema revision."""

from easyisp_core.db.engine import Database, open_database, session_scope

__all__ = ["Database", "open_database", "session_scope"]
