"""Where the console connects: this PC's embedded database, or a server (with TLS options).

A profile never holds a password; the console keeps those in the OS keyring."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import URL

TLS_MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}
EMBEDDED_PROFILE = "This PC"


@dataclass(frozen=True)
class ServerProfile:
    name: str = EMBEDDED_PROFILE
    embedded: bool = True
    host: str = "localhost"
    port: int = 5432
    database: str = "easyisp"
    sslmode: str = "prefer"
    sslrootcert: str | None = None

    def __post_init__(self) -> None:
        if self.sslmode not in TLS_MODES:
            raise ValueError(f"unknown TLS mode {self.sslmode!r}")
        if not 0 < self.port < 65536:
            raise ValueError("the port must be between 1 and 65535")

    @property
    def is_remote(self) -> bool:
        # A host starting with "/" is a Unix socket directory on this machine.
        return not self.embedded and not (
            self.host.lower() in _LOCAL_HOSTS or self.host.startswith("/")
        )

    def tls_warning(self) -> str | None:
        """A warning to show when passwords and data would cross the network unprotected."""
        if not self.is_remote:
            return None
        if self.sslmode in ("disable", "prefer"):
            return (
                f"The connection to {self.host} is not required to be encrypted: passwords and "
                "customer data can be read on the network. Choose TLS 'verify-full' with the "
                "server's CA file."
            )
        if self.sslmode in ("require", "verify-ca"):
            return (
                f"The connection to {self.host} is encrypted but the server's name is not "
                "checked; use 'verify-full' to be safe from impostor servers."
            )
        return None

    def url(self, username: str, password: str) -> URL:
        query: dict[str, str] = {"sslmode": self.sslmode}
        if self.sslrootcert:
            query["sslrootcert"] = self.sslrootcert
        if self.host.startswith("/"):
            query = {"host": self.host}
            return URL.create(
                "postgresql+psycopg", username, password, None, self.port, self.database, query
            )
        return URL.create(
            "postgresql+psycopg", username, password, self.host, self.port, self.database, query
        )


class ProfileStore:
    """Saved server profiles (JSON beside the data directory; no secrets in it)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[ServerProfile]:
        profiles = [ServerProfile()]
        if self.path.exists():
            for raw in json.loads(self.path.read_text(encoding="utf-8")):
                profile = ServerProfile(**raw)
                if profile.name != EMBEDDED_PROFILE:
                    profiles.append(profile)
        return profiles

    def save(self, profile: ServerProfile) -> None:
        others = [p for p in self.load() if p.name != profile.name and not p.embedded]
        keep = [*others, profile] if not profile.embedded else others
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps([asdict(p) for p in keep], indent=2), encoding="utf-8")
