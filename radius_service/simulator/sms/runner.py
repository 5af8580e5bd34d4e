"""The SMS double on a background uvicorn thread (tests, the demo) or in the foreground (CLI)."""

from __future__ import annotations

import uvicorn

from radius_service.simulator.daraja.runner import ServerThread
from radius_service.simulator.sms.app import build_app
from radius_service.simulator.sms.state import SmsSimulatorConfig


class SmsSimulator(ServerThread):
    """`url` is the base URL for both APIs (AT's /version1/…, Advanta's /api/services/…)."""

    def __init__(
        self, config: SmsSimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        app, self.state = build_app(config or SmsSimulatorConfig())
        self.config = self.state.config
        super().__init__(app, host, port)


def serve_forever(config: SmsSimulatorConfig, host: str, port: int) -> None:
    app, _ = build_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info")
