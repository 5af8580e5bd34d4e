"""What every subcommand gets: settings, a lazily opened database, and output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session

from easyisp_core.crypto import SecretBox, load_or_create_site_key
from easyisp_core.db.engine import Database, open_database, session_scope
from easyisp_core.db.revision import check_schema
from easyisp_core.settings import Settings


@dataclass
class CliContext:
    settings: Settings
    json_output: bool = False
    _database: Database | None = field(default=None, repr=False)

    def database(self, *, check_revision: bool = True) -> Database:
        if self._database is None:
            self._database = open_database(self.settings, application_name="easyisp-cli")
            if check_revision:
                check_schema(self._database.engine)
        return self._database

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with session_scope(self.database().sessions) as session:
            yield session

    def secret_box(self) -> SecretBox:
        key = self.settings.site_key or load_or_create_site_key(
            self.settings.resolved_site_key_file
        )
        return SecretBox.from_encoded(key)

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None

    # Output -----------------------------------------------------------------------------

    def emit(self, record: Any, *, text: str | None = None) -> None:
        """Print one result: JSON with --json, else the given text (or key: value lines)."""
        data = _plain(record)
        if self.json_output:
            print(json.dumps(data, indent=2, default=str))
        elif text is not None:
            print(text)
        else:
            for key, value in data.items():
                print(f"{key}: {value}")

    def emit_table(self, rows: Sequence[Any], columns: Sequence[str]) -> None:
        """Print a list: a JSON array with --json, else an aligned text table."""
        data = [_plain(row) for row in rows]
        if self.json_output:
            print(json.dumps(data, indent=2, default=str))
            return
        cells = [[_cell(item.get(col)) for col in columns] for item in data]
        widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
        print("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)))
        for r in cells:
            print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
        if not self.json_output:
            print(f"({len(cells)} row{'s' if len(cells) != 1 else ''})", file=sys.stderr)


def _plain(record: Any) -> Any:
    if is_dataclass(record) and not isinstance(record, type):
        record = asdict(record)
    if isinstance(record, dict):
        return {k: _plain(v) for k, v in record.items()}
    if isinstance(record, list | tuple):
        return [_plain(v) for v in record]
    if isinstance(record, Enum):
        return record.value
    if isinstance(record, UUID | Decimal | datetime | date):
        return str(record) if not isinstance(record, datetime) else record.isoformat()
    return record


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
