"""The WireGuard job: publish the site's identity, keep the config in step with the ACTIVE
peers, and store each peer's last handshake and byte counters from `wg show dump`."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from easyisp_core.db.engine import session_scope
from easyisp_core.repositories.vpn import VpnRepository
from easyisp_core.rules.vpn_addresses import parse_range, site_address
from easyisp_core.services.vpn import VpnSiteInfo, publish_site
from easyisp_core.settings import Settings
from easyisp_core.wireguard_keys import public_key_of
from radius_service.wireguard.apply import WgTool, write_private_file
from radius_service.wireguard.config import SiteInterface, SitePeer, render_wg, render_wg_quick
from radius_service.wireguard.dump import parse_dump
from radius_service.wireguard.site_key import load_or_create_private_key

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0


@dataclass(frozen=True, slots=True)
class RefreshResult:
    peers: int
    config_changed: bool
    applied: bool
    stats_stored: int


class WireGuardJob:
    name = "wireguard"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        counters: Counter[str],
        wg: WgTool | None = None,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._counters = counters
        self._wg = wg or WgTool.find()
        self.interval = interval
        network = parse_range(settings.vpn_address_range)
        self._interface = SiteInterface(
            private_key=load_or_create_private_key(settings.wireguard_dir),
            address=f"{site_address(network)}/{network.prefixlen}",
            listen_port=settings.vpn_listen_port,
        )
        self.public_key = public_key_of(self._interface.private_key)
        self._published = False

    @property
    def config_file(self) -> str:
        return str(self._settings.wireguard_dir / f"{self._settings.vpn_interface}.conf")

    async def run_once(self) -> None:
        if not self._published:
            # Once per start (retried until it works): consoles need the current identity.
            self._published = await asyncio.to_thread(self.publish)
        result = await asyncio.to_thread(self.refresh)
        self._counters["wireguard_refreshes"] += 1
        if result.config_changed:
            self._counters["wireguard_config_writes"] += 1

    def publish(self) -> bool:
        """Record the site's public key and endpoint for consoles; False without an endpoint."""
        host = self._settings.vpn_endpoint_host
        if not host:
            return False
        with session_scope(self._sessions) as session:
            publish_site(
                session,
                VpnSiteInfo(
                    interface_name=self._settings.vpn_interface,
                    public_key=self.public_key,
                    endpoint_host=host,
                    endpoint_port=self._settings.vpn_listen_port,
                    address_range=self._settings.vpn_address_range,
                ),
            )
        return True

    def refresh(self) -> RefreshResult:
        with session_scope(self._sessions) as session:
            peers = [SitePeer(k, a) for k, a in VpnRepository(session).active_peers()]
        directory = self._settings.wireguard_dir
        interface = self._settings.vpn_interface
        changed = write_private_file(
            directory / f"{interface}.conf", render_wg_quick(self._interface, peers)
        )
        plain = directory / f"{interface}.wg.conf"
        write_private_file(plain, render_wg(self._interface, peers))
        applied, stored = False, 0
        try:
            applied = self._wg.syncconf(interface, plain)
            dump = self._wg.dump(interface)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            # Most often the interface is not up (wg-quick up was never run): say so, go on.
            self._counters["wireguard_apply_failures"] += 1
            log.warning("wg could not apply %s: %s", interface, _stderr(exc))
            dump = None
        if dump:
            stats = parse_dump(dump)
            with session_scope(self._sessions) as session:
                repo = VpnRepository(session)
                for peer in stats:
                    stored += repo.record_peer_stats(
                        peer.public_key, peer.last_handshake_at, peer.rx_bytes, peer.tx_bytes
                    )
        return RefreshResult(len(peers), changed, applied, stored)


def _stderr(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError) and exc.stderr:
        text = exc.stderr if isinstance(exc.stderr, str) else exc.stderr.decode(errors="replace")
        return text.strip() or str(exc)
    return str(exc)
