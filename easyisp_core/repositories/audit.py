"""Audit log reads, including the raw material for verifying the hash chain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

# The same text the database hashes (easyisp_audit_digest_input), spelled out here rather
# than called, so a replaced database function cannot vouch for an edited row.
_CHAIN_ROWS = text(
    r"""
SELECT tenant_id, seq, prev_hash, row_hash,
       concat_ws(E'\x1f', tenant_id::text, seq::text, encode(prev_hash, 'hex'),
                 coalesce(user_id::text, ''), actor, action, coalesce(target_type::text, ''),
                 coalesce(target_label, ''), coalesce(details, ''), coalesce(before::text, ''),
                 coalesce(after::text, ''), coalesce(host(client_addr), ''),
                 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'))
         AS digest_input
  FROM audit_logs
 ORDER BY tenant_id, seq
"""
)


@dataclass(frozen=True)
class ChainRow:
    tenant_id: uuid.UUID
    seq: int | None
    prev_hash: bytes | None
    row_hash: bytes | None
    digest_input: str


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def chain_rows(self) -> Iterator[ChainRow]:
        result = self.session.execute(_CHAIN_ROWS.execution_options(yield_per=5000))
        for row in result:
            yield ChainRow(
                row.tenant_id,
                row.seq,
                None if row.prev_hash is None else bytes(row.prev_hash),
                None if row.row_hash is None else bytes(row.row_hash),
                row.digest_input,
            )
