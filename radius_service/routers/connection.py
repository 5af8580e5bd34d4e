"""One blocking RouterOS API session (librouteros) on 8728 or API-SSL 8729, with every
librouteros / socket failure turned into a RouterError. Values stay strings, as on the wire."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import librouteros
from librouteros.exceptions import ConnectionClosed, FatalError, ProtocolError, TrapError
from librouteros.login import encode_password

from radius_service.routers.errors import (
    CommandNotSupported,
    RouterCertificateChanged,
    RouterConnectionLost,
    RouterError,
    RouterLoginFailed,
    RouterTimedOut,
    RouterTrap,
    RouterUnreachable,
)

API_PORT = 8728
API_SSL_PORT = 8729
# What RouterOS says when a menu or verb does not exist on this version.
_NOT_SUPPORTED = ("no such command prefix", "no such command")


@dataclass(frozen=True, slots=True)
class RouterEndpoint:
    """Where a router is and how to log in. `tls_ca_pem` pins the router's certificate (or
    its CA); without it and with `tls_verify=False` any certificate, or none (anonymous
    Diffie-Hellman, what API-SSL offers when no certificate is set), is accepted."""

    name: str
    host: str
    username: str
    password: str = field(repr=False)
    port: int | None = None
    use_tls: bool = False
    tls_verify: bool = True
    tls_ca_pem: str | None = None
    # SHA-256 (hex) of the certificate this router must present (trust on first use).
    tls_fingerprint: str | None = None
    timeout: float = 10.0

    @property
    def api_port(self) -> int:
        if self.port is not None:
            return self.port
        return API_SSL_PORT if self.use_tls else API_PORT

    @property
    def address(self) -> str:
        return f"{self.host}:{self.api_port}"


@dataclass(frozen=True, slots=True)
class Reply:
    rows: list[dict[str, str]]
    ret: str | None = None


class RouterConnection:
    """Not thread-safe: owned by one router's queue thread."""

    def __init__(self, endpoint: RouterEndpoint, api: Any) -> None:
        self.endpoint = endpoint
        self._api = api
        self.version = ""
        # SHA-256 (hex) of the certificate the router presented over API-SSL, if any.
        self.tls_fingerprint: str | None = None

    @classmethod
    def open(cls, endpoint: RouterEndpoint) -> RouterConnection:
        seen: list[str] = []
        try:
            api = librouteros.connect(
                endpoint.host,
                endpoint.username,
                endpoint.password,
                port=endpoint.api_port,
                timeout=endpoint.timeout,
                ssl_wrapper=_ssl_wrapper(endpoint, seen) if endpoint.use_tls else None,
                login_method=_tolerant_login,
                encoding="utf-8",
            )
        except TrapError as exc:
            raise RouterLoginFailed(endpoint.name, str(exc)) from exc
        except UnicodeEncodeError as exc:
            detail = "RouterOS before 6.43 accepts only ASCII passwords"
            raise RouterLoginFailed(endpoint.name, detail) from exc
        except TimeoutError as exc:
            raise RouterTimedOut(endpoint.name, endpoint.timeout) from exc
        except ssl.SSLError as exc:
            detail = f"API-SSL handshake failed: {exc.reason or exc}"
            raise RouterUnreachable(endpoint.name, endpoint.address, detail) from exc
        except (OSError, ProtocolError) as exc:
            raise RouterUnreachable(endpoint.name, endpoint.address, _describe(exc)) from exc
        except (ConnectionClosed, FatalError) as exc:
            # The router hung up during the login (rebooting, or the service was disabled).
            detail = f"the router closed the connection during login: {exc}"
            raise RouterUnreachable(endpoint.name, endpoint.address, detail) from exc
        connection = cls(endpoint, api)
        connection.tls_fingerprint = seen[0] if seen else None
        try:
            resource = connection.run("/system/resource/print", ["=.proplist=version"])
        except RouterError:
            connection.close()
            raise
        connection.version = resource.rows[0].get("version", "") if resource.rows else ""
        return connection

    @property
    def major_version(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isascii() and head.isdigit() else 0

    def run(self, command: str, words: Sequence[str] = ()) -> Reply:
        """Send one sentence and read up to its `!done`; a `!trap` becomes RouterTrap."""
        name = self.endpoint.name
        try:
            self._api.protocol.writeSentence(command, *words)
            rows: list[dict[str, str]] = []
            ret: str | None = None
            traps: list[tuple[str, int | None]] = []
            while True:
                reply, attributes = _read(self._api)
                if reply == "!re":
                    rows.append(attributes)
                elif reply == "!trap":
                    code = attributes.get("category", "")
                    traps.append(
                        (
                            attributes.get("message", ""),
                            int(code) if code.isascii() and code.isdigit() else None,
                        )
                    )
                elif reply == "!done":
                    ret = attributes.get("ret")
                    break
                # `!empty` (RouterOS 7.18+) and unknown replies carry no rows.
        except TimeoutError as exc:
            raise RouterTimedOut(name, self.endpoint.timeout) from exc
        except (OSError, ConnectionClosed, FatalError, ProtocolError, IndexError) as exc:
            raise RouterConnectionLost(name, command) from exc
        if traps:
            first, category = traps[0]
            if first in _NOT_SUPPORTED or first.startswith("no such command or directory"):
                raise CommandNotSupported(name, command, self.version or "?")
            raise RouterTrap(name, command, "; ".join(m for m, _ in traps), category)
        return Reply(rows, ret)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._api.close()


def _read(api: Any) -> tuple[str, dict[str, str]]:
    """One reply sentence; words `=name=value` split on the first two `=` only."""
    reply, words = api.protocol.readSentence()
    attributes: dict[str, str] = {}
    for word in words:
        if word.startswith("="):
            key, _, value = word[1:].partition("=")
            attributes[key] = value
    return str(reply), attributes


def _tolerant_login(api: Any, username: str, password: str) -> None:
    """The 6.43+ form first; a router that answers with a challenge gets the MD5 form."""
    rows = list(api("/login", name=username, password=password))
    challenge = rows[0].get("ret") if rows else None
    if challenge:
        response = encode_password(str(challenge), password)
        list(api("/login", name=username, response=response))


def _ssl_wrapper(
    endpoint: RouterEndpoint, seen: list[str]
) -> Callable[[socket.socket], ssl.SSLSocket]:
    """TLS for API-SSL; the certificate's fingerprint is appended to `seen`, and a router
    whose pinned fingerprint differs is refused before the password is sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if endpoint.tls_ca_pem:
        context.load_verify_locations(cadata=endpoint.tls_ca_pem)
        # Certificates made on a router rarely name its (VPN) address; the pin is the check.
        context.check_hostname = False
    elif endpoint.tls_verify:
        context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        # A router without a certificate offers only anonymous DH (protocols.md §2.1).
        context.set_ciphers("DEFAULT:ADH-AES256-GCM-SHA384:ADH-AES128-SHA256:@SECLEVEL=0")

    def wrap(sock: socket.socket) -> ssl.SSLSocket:
        wrapped = context.wrap_socket(sock, server_hostname=endpoint.host)
        der = wrapped.getpeercert(binary_form=True)
        fingerprint = hashlib.sha256(der).hexdigest() if der else None
        if endpoint.tls_fingerprint and fingerprint != endpoint.tls_fingerprint:
            wrapped.close()
            raise RouterCertificateChanged(endpoint.name, endpoint.tls_fingerprint, fingerprint)
        if fingerprint:
            seen.append(fingerprint)
        return wrapped

    return wrap


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    return str(exc) or type(exc).__name__
