"""Bulk writes with COPY, inside the caller's transaction (demo data, large imports).

COPY streams rows to the server without a round trip per row; with a million customers it is
the difference between minutes and hours. Rows go through the same constraints and triggers
as any INSERT (the wallet ledger trigger keeps balances right), and they commit or roll back
with the rest of the unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import text
from sqlalchemy.orm import Session

from easyisp_core.errors import Conflict, ValidationFailed

# Tables that may be filled in bulk. Anything else is a bug in the caller.
BULK_TABLES = frozenset(
    {
        "chart_of_accounts",
        "customers",
        "expenses",
        "invoices",
        "payments",
        "sessions",
        "sms_logs",
        "voucher_batches",
        "vouchers",
        "wallet_transactions",
    }
)


class BulkWriter:
    """COPY rows into tables through the session's own connection and transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _driver_connection(self) -> psycopg.Connection[Any]:
        # Rows the ORM still holds (tenants, packages...) must reach the server before COPY
        # rows that reference them.
        self.session.flush()
        conn = self.session.connection().connection.driver_connection
        if not isinstance(conn, psycopg.Connection):
            raise TypeError("bulk writes need the psycopg 3 driver")
        return conn

    def copy(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Stream rows (values in `columns` order) into `table`; returns how many were sent.

        The queued writer sends data from a background thread, so the caller keeps producing
        rows while the server is still busy with the previous ones."""
        if table not in BULK_TABLES:
            raise ValueError(f"{table!r} is not a bulk-loadable table")
        if isinstance(rows, Sequence) and not rows:
            return 0
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        conn = self._driver_connection()
        count = 0
        try:
            # The audit triggers skip rows loaded in bulk by the superuser (one summary row is
            # written instead, see audit_bulk_load); everything else stays audited row by row.
            conn.execute("SET LOCAL easyisp.bulk_load = 'on'")
            with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
                    count += 1
            conn.execute("SET LOCAL easyisp.bulk_load = 'off'")
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(
                f"Loading {table} clashed with existing rows: {exc.diag.message_detail or exc}"
            ) from exc
        except psycopg.errors.IntegrityError as exc:
            detail = exc.diag.message_primary or str(exc)
            raise ValidationFailed(
                {table: detail}, f"The database refused rows for {table}: {detail}"
            ) from exc
        return count

    @contextmanager
    def deferred_indexes(self, tables: Sequence[str]) -> Iterator[list[str]]:
        """Drop the plain secondary indexes of empty tables, and rebuild them on the way out.

        Building an index once over all rows is several times cheaper than updating it for
        every COPY row; for a million customers that saves minutes. Only indexes that back no
        constraint are touched (primary keys, unique and foreign-key checks stay in force), only
        on tables that are empty and that this role owns. It all happens in a savepoint: if the
        block raises, everything since the drop is undone, indexes included. The tables stay
        locked against other sessions until the transaction ends, so this is for loading a
        fresh database, not a busy one. Yields the tables whose indexes were dropped.
        """
        for table in tables:
            if table not in BULK_TABLES:
                raise ValueError(f"{table!r} is not a bulk-loadable table")
        savepoint = self.session.begin_nested()
        try:
            deferred, definitions = self._drop_plain_indexes(tables)
            yield deferred
        except BaseException:
            savepoint.rollback()
            raise
        if definitions:
            # Deferred constraint triggers (payments_sms_receipt, 0021) queued an event per
            # loaded row; CREATE INDEX refuses a table with pending events, so fire them now
            # (a bulk load turns their work off; they return at once).
            self.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
            # Sorting for the rebuild needs memory; the setting ends with the transaction.
            self.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            for definition in definitions:
                self.session.execute(text(definition))
        savepoint.commit()

    def _drop_plain_indexes(self, tables: Sequence[str]) -> tuple[list[str], list[str]]:
        deferred: list[str] = []
        definitions: list[str] = []
        for table in tables:
            if not self._empty_and_owned(table):
                continue
            rows = self.session.execute(
                text(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = CAST(:t AS regclass) AND NOT i.indisunique "
                    "AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                    # Creation order: a partition's copy of an index is named after its
                    # columns, numbered in creation order (sessions has a full and a partial
                    # index on the same columns), so rebuilding in this order keeps the names.
                    "ORDER BY i.indexrelid"
                ),
                {"t": table},
            ).all()
            for name, definition in rows:
                self.session.execute(text(f'DROP INDEX "{name}"'))
                # A partitioned table reports its index "ON ONLY" the parent; the rebuild must
                # cover the partitions too.
                definitions.append(definition.replace(" ON ONLY ", " ON ", 1))
            deferred.append(table)
        return deferred, definitions

    def _empty_and_owned(self, table: str) -> bool:
        return bool(
            self.session.execute(
                text(
                    "SELECT pg_has_role(current_user, c.relowner, 'USAGE') "
                    f'AND NOT EXISTS (SELECT 1 FROM "{table}") '
                    "FROM pg_class c WHERE c.oid = CAST(:t AS regclass)"
                ),
                {"t": table},
            ).scalar()
        )

    def audit_bulk_load(self, tenant_id: uuid.UUID, label: str, details: str) -> None:
        """The one audit row that stands for a tenant's rows loaded by copy()."""
        self.session.execute(
            text(
                "INSERT INTO audit_logs (tenant_id, action, target_type, target_label, details) "
                "VALUES (:t, 'BULK_LOAD', 'OTHER', :label, :details)"
            ),
            {"t": tenant_id, "label": label[:200], "details": details},
        )

    def analyze(self, tables: Iterable[str]) -> None:
        """Refresh planner statistics, so the first queries after a big load use the indexes.

        Inside the transaction ANALYZE already counts the rows this transaction inserted."""
        conn = self._driver_connection()
        for table in tables:
            if table not in BULK_TABLES:
                raise ValueError(f"{table!r} is not a bulk-loadable table")
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
