"""The site service's heartbeat rows: one per running instance, refreshed every few seconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from easyisp_core.models import ServiceHeartbeat


class HeartbeatRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(
        self,
        *,
        instance: str,
        hostname: str,
        version: str,
        pid: int,
        started_at: datetime,
        counters: Mapping[str, Any],
    ) -> datetime:
        """Create or refresh this instance's row; returns last_beat_at as the server set it.

        last_beat_at comes from the database clock, not ours: readers compare it with the
        database's now(), so a skewed service host cannot look alive (or dead) by mistake."""
        new_row = insert(ServiceHeartbeat).values(
            instance=instance,
            hostname=hostname,
            version=version,
            pid=pid,
            started_at=started_at,
            last_beat_at=func.now(),
            counters=dict(counters),
        )
        # A restarted instance with the same name (EASYISP_SERVICE_INSTANCE) takes the row over.
        stmt = new_row.on_conflict_do_update(
            index_elements=[ServiceHeartbeat.instance],
            set_={
                "hostname": new_row.excluded.hostname,
                "version": new_row.excluded.version,
                "pid": new_row.excluded.pid,
                "started_at": new_row.excluded.started_at,
                "last_beat_at": new_row.excluded.last_beat_at,
                "counters": new_row.excluded.counters,
            },
        ).returning(ServiceHeartbeat.last_beat_at)
        beat: datetime = self.session.execute(stmt).scalar_one()
        return beat

    def list(self) -> Sequence[ServiceHeartbeat]:
        """Every instance's row, the most recently alive first."""
        return self.session.scalars(
            select(ServiceHeartbeat).order_by(ServiceHeartbeat.last_beat_at.desc())
        ).all()

    def get(self, instance: str) -> ServiceHeartbeat | None:
        return self.session.get(ServiceHeartbeat, instance)

    def delete(self, instance: str) -> bool:
        """Remove an instance's row (on a clean stop); True when there was one."""
        result = self.session.execute(
            delete(ServiceHeartbeat)
            .where(ServiceHeartbeat.instance == instance)
            .returning(ServiceHeartbeat.instance)
        )
        return result.first() is not None
