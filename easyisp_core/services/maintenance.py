"""Partition upkeep: create the coming months ahead of time, archive old months to files.

Both run in the caller's transaction and never commit. archive_partitions writes its files
before the caller commits; if the transaction then fails, the files stay behind while the
partitions are back in place, which is harmless (the next archive run overwrites them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from easyisp_core.errors import ValidationFailed
from easyisp_core.repositories import partitions
from easyisp_core.repositories.partitions import PARTITIONED_TABLES


@dataclass(frozen=True)
class ArchivedPartition:
    name: str
    rows: int
    path: Path


def ensure_all_partitions(session: Session, months_ahead: int = 3) -> dict[str, list[str]]:
    """Create the missing monthly partitions of every partitioned table; returns what was made.

    Rows that landed in a default partition (a month beyond the prepared ones) move into their
    own month's partition here."""
    return {
        table: partitions.ensure_partitions(session, table, months_ahead)
        for table in PARTITIONED_TABLES
    }


def latest_archive_boundary(today: date) -> date:
    """The latest `before` date archiving accepts: the first day of the current month.

    A later date would detach the current month, and new rows would pile up in the default
    partition."""
    return today.replace(day=1)


def archive_partitions(session: Session, before: date, out_dir: Path) -> list[ArchivedPartition]:
    """Detach every monthly partition ending on or before `before`, export it to
    <out_dir>/<name>.csv.gz and drop it.

    Months detached by an earlier run that never finished (still present, no longer attached)
    are archived too. The parent table stays locked against writes from the detach until the
    caller commits, so run this in a quiet hour."""
    limit = latest_archive_boundary(datetime.now(UTC).date())
    if before > limit:
        raise ValidationFailed(
            {"before": f"must be on or before {limit.isoformat()} (the current month stays)"}
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    archived: list[ArchivedPartition] = []
    for table in PARTITIONED_TABLES:
        leftovers = [
            name
            for name in partitions.detached_partitions(session, table)
            if _ends_by(name, before)
        ]
        detached = partitions.detach_before(session, table, before)
        for name in sorted({*leftovers, *detached}):
            path = out_dir / f"{name}.csv.gz"
            rows = partitions.export_csv_gz(session, name, path)
            partitions.drop_table(session, name)
            archived.append(ArchivedPartition(name=name, rows=rows, path=path))
    return archived


def _ends_by(name: str, before: date) -> bool:
    """The same rule as easyisp_detach_partitions_before: the month ends on or before `before`."""
    month = partitions.partition_month(name)
    month_end = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return month_end <= before
