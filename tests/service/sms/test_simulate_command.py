"""`easyisp simulate sms` serves the SMS double in the foreground with the given key."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx

from tests.service.mpesa.test_simulate_command import free_port


def test_simulate_sms_serves_africas_talking_with_the_given_key() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "easyisp_cli.main",
            "simulate",
            "sms",
            "--listen",
            f"127.0.0.1:{port}",
            "--api-key",
            "k-1",
            "--balance",
            "5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        answer = None
        pause = threading.Event()
        for _ in range(750):  # a ceiling of 15 s for the process to start
            try:
                answer = httpx.get(f"{base}/version1/user", headers={"apiKey": "k-1"})
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                pause.wait(0.02)
        assert answer is not None
        assert answer.json() == {"UserData": {"balance": "KES 5.0000"}}
        sent = httpx.post(
            f"{base}/version1/messaging",
            headers={"apiKey": "k-1", "Accept": "application/json"},
            data={"username": "sandbox", "to": "+254712345678", "message": "hi"},
        )
        assert sent.status_code == 201
        assert sent.json()["SMSMessageData"]["Recipients"][0]["statusCode"] == 101
        refused = httpx.post(
            f"{base}/version1/messaging",
            headers={"apiKey": "nope"},
            data={"username": "sandbox", "to": "+254712345678", "message": "hi"},
        )
        assert refused.status_code == 401
    finally:
        process.terminate()
        process.wait(15)
        if process.stdout:
            process.stdout.close()
