"""Router failures an operator can act on, each with a plain-language message."""

from __future__ import annotations

from easyisp_core.errors import ExternalServiceError


class RouterError(ExternalServiceError):
    """Something went wrong talking to a router; `router` names it for the message."""

    def __init__(self, router: str, user_message: str) -> None:
        super().__init__(f"Router {router}: {user_message}")
        self.router = router


class RouterLoginFailed(RouterError):
    def __init__(self, router: str, detail: str) -> None:
        super().__init__(
            router,
            f"login refused ({detail}). Check the API user name and password, and that the "
            "user's group has the 'api' policy.",
        )


class RouterUnreachable(RouterError):
    def __init__(self, router: str, address: str, detail: str) -> None:
        super().__init__(
            router,
            f"cannot connect to {address} ({detail}). Check the address, that the router is "
            "on, and that the api / api-ssl service is enabled in /ip service.",
        )


class RouterCertificateChanged(RouterError):
    """The router's API-SSL certificate is not the one pinned at its first connection."""

    def __init__(self, router: str, pinned: str, presented: str | None) -> None:
        shown = _short(presented) if presented else "no certificate"
        super().__init__(
            router,
            f"its API-SSL certificate changed (pinned {_short(pinned)}, presented {shown}); "
            "nothing was sent to it. If the certificate was replaced on purpose, clear the "
            "pinned certificate on the router's record; otherwise someone may be "
            "intercepting the connection.",
        )


def _short(fingerprint: str) -> str:
    return ":".join(fingerprint[i : i + 2] for i in range(0, 16, 2)) + "…"


class RouterTimedOut(RouterError):
    def __init__(self, router: str, seconds: float) -> None:
        super().__init__(router, f"no answer within {seconds:g} s; the router may be overloaded.")


class RouterConnectionLost(RouterError):
    """The connection broke during a command; a change may or may not have been applied."""

    def __init__(self, router: str, command: str) -> None:
        super().__init__(
            router,
            f"the connection dropped during {command}; check the router before retrying.",
        )


class CommandNotSupported(RouterError):
    def __init__(self, router: str, command: str, version: str) -> None:
        super().__init__(
            router,
            f"{command} is not available on RouterOS {version}"
            + (" (it needs RouterOS 7)" if version.startswith("6") else ""),
        )
        self.command = command
        self.version = version


class RouterTrap(RouterError):
    """The router refused a command (`!trap`); `message` is the router's own words."""

    def __init__(self, router: str, command: str, message: str, category: int | None) -> None:
        super().__init__(router, f"{command} failed: {message}")
        self.command = command
        self.message = message
        self.category = category
