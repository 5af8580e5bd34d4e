"""Monthly partitions of sessions and sms_logs: create ahead, detach, export and drop old ones.

The month arithmetic lives in the database functions of migration 0002
(easyisp_ensure_partitions, easyisp_detach_partitions_before); this module calls them and does
the work SQL functions cannot: streaming a table out with COPY into a compressed file.

Table names end up in DDL, which cannot take bind parameters, so every name is checked against
an allow-list before it is used and then quoted as an identifier anyway.
"""

from __future__ import annotations

import gzip
import os
import re
from datetime import date
from pathlib import Path
from typing import Any, cast

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from easyisp_core.errors import Conflict, ValidationFailed

PARTITIONED_TABLES: tuple[str, ...] = ("sessions", "sms_logs")
# Months ahead a caller may ask for: enough for any planning, bounded so a typo cannot
# create hundreds of tables.
MAX_MONTHS_AHEAD = 24
LOCK_NOT_AVAILABLE = "55P03"
_PARTITION_NAME = re.compile(r"^(?P<parent>sessions|sms_logs)_p(?P<month>[0-9]{6})$")


def checked_table(table: str) -> str:
    """The name itself when it is one of the partitioned tables, else ValidationFailed."""
    if table not in PARTITIONED_TABLES:
        raise ValidationFailed(
            {"table": f"{table!r} is not partitioned; use one of {', '.join(PARTITIONED_TABLES)}"}
        )
    return table


def checked_partition(name: str) -> str:
    """The name itself when it is a monthly partition of an allowed table, else ValidationFailed."""
    if _PARTITION_NAME.match(name) is None:
        raise ValidationFailed(
            {"table": f"{name!r} is not a monthly partition of sessions or sms_logs"}
        )
    return name


def partition_month(name: str) -> date:
    """The first day of the month a partition (sessions_p202601) holds."""
    match = _PARTITION_NAME.match(checked_partition(name))
    assert match is not None  # checked_partition raised otherwise
    stamp = match["month"]
    return date(int(stamp[:4]), int(stamp[4:]), 1)


def ensure_partitions(
    session: Session, table: str, months_ahead: int = 3, first_month: date | None = None
) -> list[str]:
    """Create the missing monthly partitions up to `months_ahead` months after the current one.

    Rows already sitting in the default partition for a new month are moved into it in the
    same transaction. Returns the partitions created (empty when none were missing)."""
    checked_table(table)
    if not 0 <= months_ahead <= MAX_MONTHS_AHEAD:
        raise ValidationFailed({"months_ahead": f"use 0 to {MAX_MONTHS_AHEAD}"})
    rows = session.execute(
        text("SELECT easyisp_ensure_partitions(CAST(:t AS regclass), :ahead, :first)"),
        {"t": table, "ahead": months_ahead, "first": first_month},
    ).scalars()
    return [str(name) for name in rows]


def attached_partitions(session: Session, table: str) -> list[str]:
    """The monthly partitions currently attached to `table` (not the default one), oldest first."""
    checked_table(table)
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:t AS regclass) AND c.relname ~ '_p[0-9]{6}$' "
            "ORDER BY c.relname"
        ),
        {"t": table},
    ).scalars()
    return [str(name) for name in rows]


def detach_before(
    session: Session, table: str, before: date, *, lock_timeout: str = "5s"
) -> list[str]:
    """Detach (not drop) the monthly partitions that end on or before `before`.

    Detaching needs an exclusive lock on the parent table. While that request waits behind a
    long query, every new write to the table queues behind it, so the wait is bounded by
    `lock_timeout`: better to fail maintenance (Conflict, try again later) than to stall
    RADIUS accounting."""
    checked_table(table)
    previous = session.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": lock_timeout})
    try:
        rows = session.execute(
            text("SELECT easyisp_detach_partitions_before(CAST(:t AS regclass), :before)"),
            {"t": table, "before": before},
        ).scalars()
        names = [str(name) for name in rows]
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise Conflict(
                f"The {table} table is busy (waited {lock_timeout} for a lock); "
                "try archiving again in a quieter moment."
            ) from exc
        raise
    session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": previous})
    return names


def detached_partitions(session: Session, table: str) -> list[str]:
    """Tables named like a monthly partition of `table` that are not attached to it.

    These are months detached earlier whose archive never completed; they still hold data."""
    checked_table(table)
    rows = session.execute(
        text(
            "SELECT c.relname FROM pg_class c "
            "WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname ~ ('^' || :t || '_p[0-9]{6}$') AND NOT c.relispartition "
            "ORDER BY c.relname"
        ),
        {"t": table},
    ).scalars()
    return [str(name) for name in rows]


def count_rows(session: Session, name: str) -> int:
    checked_partition(name)
    quoted = session.get_bind().dialect.identifier_preparer.quote(name)
    return int(session.execute(text(f"SELECT count(*) FROM {quoted}")).scalar_one())


def export_csv_gz(session: Session, name: str, path: Path) -> int:
    """Write a partition's rows to `path` as gzip-compressed CSV with a header; returns the rows.

    The COPY runs on the session's own connection, so it sees the caller's uncommitted work
    (a partition detached a moment ago). The file appears under its final name only once it is
    complete: an export that fails leaves no file (a killed process at most a .part file),
    never a truncated archive under the final name."""
    checked_partition(name)
    driver = cast("psycopg.Connection[Any]", session.connection().connection.driver_connection)
    partial = path.with_name(path.name + ".part")
    query = sql.SQL("COPY {} TO STDOUT WITH (FORMAT csv, HEADER true)").format(sql.Identifier(name))
    try:
        with driver.cursor() as cur:
            with gzip.open(partial, "wb") as out, cur.copy(query) as copy:
                for chunk in copy:
                    out.write(chunk)
            rows = cur.rowcount
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return rows


def drop_table(session: Session, name: str) -> None:
    """Drop a detached monthly partition. Refuses one that is still attached: dropping that
    would silently delete live rows from the parent table."""
    checked_partition(name)
    attached = session.execute(
        text("SELECT relispartition FROM pg_class WHERE oid = to_regclass(:n)"), {"n": name}
    ).scalar_one_or_none()
    if attached is None:
        raise ValidationFailed({"table": f"{name} does not exist"})
    if attached:
        raise ValidationFailed({"table": f"{name} is still attached; detach it first"})
    quoted = session.get_bind().dialect.identifier_preparer.quote(name)
    session.execute(text(f"DROP TABLE {quoted}"))
