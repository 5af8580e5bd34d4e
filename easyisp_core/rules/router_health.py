"""What one poll of a router's API does to its status.

- A router that answers is ONLINE (a PENDING router becomes ONLINE the first time).
- A router that was ONLINE goes OFFLINE after OFFLINE_AFTER_FAILURES polls in a row fail, of
  any kind (refused, timed out, login refused): one lost poll (a link blip, a router busy
  for a few seconds) does not flap the console. At the 20 s default interval an outage shows
  within a minute even when each poll waits out its timeout.
- A PENDING router that has never answered stays PENDING (it is still being set up); the
  failure reason is recorded so the operator sees why.
"""

from __future__ import annotations

from easyisp_core.models.enums import NasStatus

OFFLINE_AFTER_FAILURES = 2


def status_after_success(_current: NasStatus) -> NasStatus:
    return NasStatus.ONLINE


def status_after_failure(current: NasStatus, failures_in_a_row: int) -> NasStatus:
    """`failures_in_a_row` counts this failure too."""
    if current is NasStatus.PENDING:
        return NasStatus.PENDING
    if failures_in_a_row >= OFFLINE_AFTER_FAILURES:
        return NasStatus.OFFLINE
    return current


def api_host(ip_address: str, vpn_ip: str | None, configured: str | None) -> str:
    """Where to reach the API: an explicitly set host, else the VPN address (routers behind
    NAT are reached through the tunnel), else the address RADIUS packets come from."""
    return configured or vpn_ip or ip_address
