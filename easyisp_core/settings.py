"""One Settings object per process, read from EASYISP_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_NAME = "easyisp"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class Settings(BaseSettings):
    """Process-wide configuration. Every field maps to EASYISP_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="EASYISP_", extra="ignore")

    # When unset, the app starts its own embedded PostgreSQL under data_dir.
    database_url: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    # File holding the site key that encrypts secrets at rest; the database never holds it.
    site_key_file: Path | None = None
    # Raw site key (urlsafe base64 of 32 bytes); takes precedence over site_key_file.
    site_key: str | None = None
    default_timezone: str = "Africa/Nairobi"
    log_level: str = "INFO"
    # Names this site-service process in service_heartbeats (default: hostname:pid).
    service_instance: str | None = None
    # Where the site service answers RADIUS authentication ("off" to disable).
    radius_auth_addr: str = "0.0.0.0:1812"
    # Where it takes RADIUS accounting ("off" to disable).
    radius_acct_addr: str = "0.0.0.0:1813"
    # WireGuard at the site: routers dial vpn_endpoint_host:vpn_listen_port (the site's public
    # name or address; unset = the service does not publish a VPN identity).
    vpn_endpoint_host: str | None = None
    vpn_listen_port: int = 51820
    vpn_address_range: str = "10.10.0.0/16"
    vpn_interface: str = "wg-easyisp"
    # Where the site service answers HTTP: M-Pesa callbacks and /health ("off" to disable).
    http_addr: str = "0.0.0.0:8080"
    # The site's address as Daraja reaches it (https://pay.example.co.ke): STK pushes name
    # {public_url}/pay/<token>/stk as their CallBackURL. Unset: http://<http_addr>.
    public_url: str | None = None
    # How often the service polls each router's API (an offline router shows within a minute).
    router_poll_seconds: float = 20.0
    # RADIUS auth worker processes sharing the port (default: one per CPU; 1 = in-process).
    radius_workers: int | None = Field(default=None, ge=1)
    # The payment portal expired subscribers are redirected to and hotspot users may reach
    # before paying (router sync puts its host in the walled garden). Unset: <public_url>/portal,
    # else http://<vpn endpoint host>/portal.
    portal_url: str | None = None
    # The portal's IPv4 address for the routers' redirect rule (NAT needs an address). Unset:
    # the portal URL's host when it is an address, else that name resolved at sync time.
    portal_address: str | None = None
    # Size limit of the accounting journal (records kept while PostgreSQL is unreachable);
    # when full the service stops acknowledging accounting rather than lose records.
    acct_journal_max_mb: int = Field(default=512, gt=0)
    # Accounting writers committing at once, each with its own connection and a hash share
    # of the sessions (radius/accounting.py explains the default).
    radius_acct_writers: int = Field(default=1, ge=1)
    # Days an STK push that was never paid (expired or refused) is kept before the payment
    # upkeep job deletes it.
    pending_payment_retention_days: int = Field(default=30, ge=1)

    @property
    def embedded_pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def resolved_site_key_file(self) -> Path:
        return self.site_key_file or (self.data_dir / "site.key")

    @property
    def resolved_portal_url(self) -> str | None:
        if self.portal_url:
            return self.portal_url
        if self.public_url:
            return f"{self.public_url.rstrip('/')}/portal"
        return f"http://{self.vpn_endpoint_host}/portal" if self.vpn_endpoint_host else None

    @property
    def wireguard_dir(self) -> Path:
        """The site's WireGuard private key and generated config (service's data only)."""
        return self.data_dir / "wireguard"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, built once on first use."""
    return Settings()
