"""Export every row of a table's current query to CSV, page by page, in a worker.

The file shows what the table shows (the columns' formatted text, visible columns only) for
every matching row, not only the rows fetched so far. It is written beside the target and
renamed at the end, so a cancelled or failed export never leaves a half file behind.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

from easyisp_core.repositories.query_cancel import QueryCanceller
from easyisp_desktop.framework.table_model import Column, ListSource, TableQuery
from easyisp_desktop.framework.worker import Worker

EXPORT_PAGE_SIZE = 1_000


def export_csv(
    worker: Worker,
    source: ListSource,
    query: TableQuery,
    columns: Sequence[Column],
    path: Path,
    *,
    page_size: int = EXPORT_PAGE_SIZE,
    canceller: QueryCanceller | None = None,
) -> int:
    """Write the rows matching `query` to `path`; returns how many. Runs on a worker thread.

    `canceller` (cancelled with the worker) stops a page's query on the server as well."""
    canceller = canceller or QueryCanceller()
    partial = path.with_name(path.name + ".part")
    written = 0
    try:
        # utf-8-sig: Excel (what most ISP offices open CSVs with) then reads accents correctly.
        with partial.open("w", newline="", encoding="utf-8-sig") as stream:
            writer = csv.writer(stream)
            writer.writerow([c.header for c in columns])
            page = source.first(query, page_size, canceller)
            rows = page.rows
            while rows:
                worker.raise_if_cancelled()
                writer.writerows([[c.formatter(c.value(row)) for c in columns] for row in rows])
                written += len(rows)
                worker.report_progress(written, f"Exported {written:,} rows…")
                if len(rows) < page_size:
                    break
                rows = source.after(query, rows[-1], page_size, page.token, canceller)
        worker.raise_if_cancelled()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return written
