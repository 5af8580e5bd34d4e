"""Verify the audit trail's per-tenant hash chain, optionally against saved anchors.

Each audit row stores seq (1, 2, 3… per tenant), the previous row's hash and its own hash.
A deleted row leaves a gap in seq; an edited row no longer matches its hash, and the next
row's prev_hash no longer matches it. Someone who can rewrite the whole chain (a database
superuser) is caught by the anchors: heads recorded earlier, outside the database, must
still be in the chain with the same hash.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from easyisp_core.repositories.audit import AuditRepository


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass
class AuditReport:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    heads: dict[str, ChainHead] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session, anchors: dict[str, ChainHead] | None = None) -> AuditReport:
    report = AuditReport()
    seen: dict[str, dict[int, str]] = {}
    anchored = anchors or {}
    previous: tuple[uuid.UUID, int, bytes] | None = None
    for row in AuditRepository(session).chain_rows():
        report.rows += 1
        tenant = str(row.tenant_id)
        where = f"tenant {tenant} row {row.seq}"
        if row.seq is None or row.row_hash is None or row.prev_hash is None:
            report.problems.append(f"{where}: not chained (written without the audit trigger)")
            continue
        expected_seq = previous[1] + 1 if previous and previous[0] == row.tenant_id else 1
        expected_prev = previous[2] if previous and previous[0] == row.tenant_id else b""
        if row.seq != expected_seq:
            report.problems.append(
                f"{where}: expected row {expected_seq} — rows {expected_seq}..{row.seq - 1} "
                "are missing"
            )
        elif row.prev_hash != expected_prev:
            report.problems.append(f"{where}: does not link to the row before it")
        if hashlib.sha256(row.digest_input.encode("utf-8")).digest() != row.row_hash:
            report.problems.append(f"{where}: its content was changed after it was written")
        if tenant in anchored:
            seen.setdefault(tenant, {})[row.seq] = row.row_hash.hex()
        previous = (row.tenant_id, row.seq, row.row_hash)
        report.heads[tenant] = ChainHead(row.seq, row.row_hash.hex())
    for tenant, head in anchored.items():
        found = seen.get(tenant, {}).get(head.seq)
        if found is None:
            report.problems.append(
                f"tenant {tenant}: anchored row {head.seq} is gone (the chain was cut back)"
            )
        elif found != head.hash:
            report.problems.append(
                f"tenant {tenant}: anchored row {head.seq} has a different hash "
                "(the chain was rewritten)"
            )
    return report


def load_anchors(path: Path) -> dict[str, ChainHead]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {tenant: ChainHead(int(v["seq"]), str(v["hash"])) for tenant, v in data.items()}


def save_anchors(path: Path, heads: dict[str, ChainHead]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {tenant: {"seq": h.seq, "hash": h.hash} for tenant, h in sorted(heads.items())}
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
