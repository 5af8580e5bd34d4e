"""The site's WireGuard job against a real database; `wg` itself is a stand-in script that
records what it was asked to apply and prints a dump, as the real tool would."""

from __future__ import annotations

import asyncio
import stat
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from easyisp_core.crypto import SecretBox
from easyisp_core.db.engine import make_engine, session_scope
from easyisp_core.models import Nas, VpnPeer
from easyisp_core.models.enums import VpnPeerStatus
from easyisp_core.services.vpn import create_peer_for_nas, read_site, set_peer_status
from easyisp_core.settings import Settings
from easyisp_core.wireguard_keys import public_key_of
from radius_service.wireguard.apply import WgTool
from radius_service.wireguard.job import WireGuardJob
from tests.factories import make_nas, make_tenant

FAKE_WG = """#!{python}
import pathlib, shutil, sys
here = pathlib.Path(__file__).parent
if sys.argv[1] == "syncconf":
    shutil.copy(sys.argv[3], here / "applied.conf")
elif sys.argv[1:4] == ["show", "wg-easyisp", "dump"]:
    sys.stdout.write((here / "dump.txt").read_text())
else:
    sys.exit("unexpected arguments")
"""


def _fake_wg(directory: Path) -> WgTool:
    directory.mkdir()
    script = directory / "wg"
    script.write_text(FAKE_WG.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return WgTool(str(script))


def test_active_peers_are_applied_and_their_stats_stored(
    fresh_db_url: str, secret_box: SecretBox, tmp_path: Path
) -> None:
    engine = make_engine(fresh_db_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    settings = Settings(data_dir=tmp_path / "data", vpn_endpoint_host="vpn.example-isp.co.ke")
    try:
        with session_scope(factory) as session:
            tenant = make_tenant(session)
            peers = []
            for _ in range(2):
                nas = session.get(Nas, make_nas(session, secret_box, tenant).id)
                assert nas is not None
                peers.append(create_peer_for_nas(session, secret_box, nas))
            set_peer_status(session, peers[1].id, VpnPeerStatus.DISABLED)
        active, disabled = peers

        wg = _fake_wg(tmp_path / "bin")
        (tmp_path / "bin" / "dump.txt").write_text(
            "priv\tpub\t51820\toff\n"
            f"{active.public_key}\t(none)\t198.51.100.7:41235\t{active.assigned_ip}/32\t"
            "1764072000\t1000\t2000\toff\n",
            encoding="ascii",
        )
        job = WireGuardJob(factory, settings, Counter(), wg=wg)
        assert job.publish()
        result = job.refresh()

        assert (result.peers, result.config_changed, result.applied) == (1, True, True)
        assert result.stats_stored == 1
        applied = (tmp_path / "bin" / "applied.conf").read_text(encoding="ascii")
        assert active.public_key in applied
        assert disabled.public_key not in applied
        assert "Address" not in applied
        conf = Path(job.config_file)
        assert "Address = 10.10.0.1/16" in conf.read_text(encoding="ascii")
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600
        private = (settings.wireguard_dir / "site-private.key").read_text().strip()
        with session_scope(factory) as session:
            site = read_site(session)
            assert site is not None
            assert site.public_key == public_key_of(private) == job.public_key
            assert site.endpoint_host == "vpn.example-isp.co.ke"
            stored = session.get(VpnPeer, active.id)
            assert stored is not None
            assert stored.last_handshake_at == datetime(2025, 11, 25, 12, 0, tzinfo=UTC)
            assert (stored.rx_bytes, stored.tx_bytes) == (1000, 2000)
        # Nothing changed: the file is left alone (and applied again, which is harmless).
        assert not job.refresh().config_changed
        # As the service runs it: publish once, then refresh, counted.
        counters: Counter[str] = Counter()
        running = WireGuardJob(factory, settings, counters, wg=wg)
        asyncio.run(running.run_once())
        asyncio.run(running.run_once())
        assert counters["wireguard_refreshes"] == 2
        assert counters["wireguard_config_writes"] == 0
    finally:
        engine.dispose()


def test_without_wg_installed_the_files_are_written_and_nothing_else(
    fresh_db_url: str, tmp_path: Path
) -> None:
    engine = make_engine(fresh_db_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        settings = Settings(data_dir=tmp_path / "data")
        job = WireGuardJob(factory, settings, Counter(), wg=WgTool(None))
        assert not job.publish()  # no endpoint configured: nothing to tell consoles
        result = job.refresh()
        assert (result.applied, result.stats_stored) == (False, 0)
        assert Path(job.config_file).exists()
        # The key survives a restart: a second job reads the same file.
        again = WireGuardJob(factory, settings, Counter(), wg=WgTool(None))
        assert again.public_key == job.public_key
    finally:
        engine.dispose()
