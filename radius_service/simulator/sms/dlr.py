"""Delivery reports from the SMS double, posted after a delay the way each API does:
Africa's Talking form-encoded (id, status, phoneNumber, networkCode, failureReason),
Advanta JSON (messageid, description, timeTaken, timestamp)."""

from __future__ import annotations

import asyncio
import logging

import httpx

from radius_service.simulator.sms.state import SentMessage, SmsSimulatorState

log = logging.getLogger(__name__)
SAFARICOM = "63902"


class DlrSender:
    def __init__(self, state: SmsSimulatorState) -> None:
        self.state = state
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, message: SentMessage) -> None:
        if self.state.config.callback_url is None or message.dlr_status is None:
            return
        task = asyncio.get_running_loop().create_task(self._post_later(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_later(self, message: SentMessage) -> None:
        await asyncio.sleep(self.state.config.dlr_delay)
        url = self.state.config.callback_url
        if url is None:
            return
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                if message.api == "africastalking":
                    form = {
                        "id": message.message_id,
                        "status": message.dlr_status or "",
                        "phoneNumber": message.phone,
                        "networkCode": SAFARICOM,
                    }
                    if message.dlr_status == "Rejected":
                        form["failureReason"] = "DeliveryFailure"
                    response = await client.post(url, data=form)
                else:
                    description = (
                        "DeliveredToTerminal" if message.dlr_status == "Success" else "Failed"
                    )
                    response = await client.post(
                        url,
                        json={
                            "description": description,
                            "messageid": message.message_id,
                            "timeTaken": "1s",
                            "timestamp": message.sent_at.strftime("%Y-%m-%d %H:%M:%S"),
                        },
                    )
            message.dlr_posted = response.is_success
            if not response.is_success:
                self.state.dlr_failures += 1
        except httpx.HTTPError as exc:
            self.state.dlr_failures += 1
            log.warning("delivery report to %s failed: %s", url, exc)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
