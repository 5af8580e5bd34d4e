"""Settle STK pushes whose callback never came: every 20 s, ask STK Push Query about each push
still unanswered 60 s after it was sent (Daraja's Spike Arrest refuses faster polling)."""

from __future__ import annotations

from radius_service.mpesa.stk_flow import StkFlow

DEFAULT_INTERVAL = 20.0


class StkQueryJob:
    name = "stk-query"

    def __init__(self, flow: StkFlow, interval: float = DEFAULT_INTERVAL) -> None:
        self._flow = flow
        self.interval = interval

    async def run_once(self) -> None:
        await self._flow.settle_unanswered()
