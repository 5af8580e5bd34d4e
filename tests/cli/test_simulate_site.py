"""`easyisp simulate site` as a real process: the demo's routers get simulators and the
health poll brings them ONLINE."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.crypto import SecretBox, new_site_key
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import Nas
from easyisp_core.models.enums import NasStatus
from radius_service.jobs.router_health import RouterHealthJob
from tests.factories import make_nas, make_tenant

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_simulate_site_brings_the_routers_online(fresh_db_url: str, tmp_path: Path) -> None:
    key = new_site_key()
    box = SecretBox.from_encoded(key)
    engine = make_engine(fresh_db_url, application_name="simulate-site-test")
    sessions = sessionmaker(engine, expire_on_commit=False)
    try:
        with session_scope(sessions) as session:
            tenant = make_tenant(session)
            names = [make_nas(session, box, tenant, api_username="easyisp").name for _ in range(2)]
            make_nas(session, box, tenant)  # no API user: not simulated
        env = {k: v for k, v in os.environ.items() if not k.startswith("EASYISP_")}
        env |= {"EASYISP_DATA_DIR": str(tmp_path), "EASYISP_SITE_KEY": key}
        proc = subprocess.Popen(
            [sys.executable, "-m", "easyisp_cli.main", "--database-url", fresh_db_url,
             "simulate", "site", "--tenant", tenant.name, "--no-sessions", "--no-mpesa"],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline() for _ in range(3)]
            assert lines[2].startswith("simulating 2 router(s)"), lines
            _poll_once(sessions, box)
            with Session(engine) as session:
                rows = session.scalars(select(Nas).where(Nas.tenant_id == tenant.id)).all()
                by_name = {n.name: n for n in rows}
            for name in names:
                assert by_name[name].status is NasStatus.ONLINE
                assert by_name[name].router_identity == name
                assert by_name[name].api_host == "127.0.0.1"
        finally:
            proc.send_signal(signal.SIGINT)
            _out, err = proc.communicate(timeout=30)
        assert "Traceback" not in err
    finally:
        engine.dispose()


def _poll_once(sessions: sessionmaker[Session], box: SecretBox) -> None:
    job = RouterHealthJob(sessions, box, Counter())

    async def scenario() -> None:
        try:
            await job.run_once()
        finally:
            await job.aclose()

    asyncio.run(scenario())
