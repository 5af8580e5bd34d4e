"""`easyisp simulate mpesa` serves the Daraja double in the foreground with the given keys."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading

import httpx

from radius_service.mpesa.password import stk_password


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_simulate_mpesa_serves_daraja_with_the_given_credentials() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "easyisp_cli.main",
            "simulate",
            "mpesa",
            "--listen",
            f"127.0.0.1:{port}",
            "--shortcode",
            "600100",
            "--passkey",
            "pk-test",
            "--consumer-key",
            "ck",
            "--consumer-secret",
            "cs",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        token = None
        pause = threading.Event()
        for _ in range(750):  # a ceiling of 15 s for the process to start
            try:
                token = httpx.get(
                    f"{base}/oauth/v1/generate?grant_type=client_credentials", auth=("ck", "cs")
                ).json()["access_token"]
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                pause.wait(0.02)
        assert token
        timestamp = "20261125120000"
        body = {
            "BusinessShortCode": "600100",
            "Password": stk_password("600100", "pk-test", timestamp),
            "Timestamp": timestamp,
            "TransactionType": "CustomerPayBillOnline",
            "Amount": 1,
            "PartyA": "254708374149",
            "PartyB": "600100",
            "PhoneNumber": "254708374149",
            "CallBackURL": "http://127.0.0.1:9/hooks/stk",
            "AccountReference": "ACC",
            "TransactionDesc": "Test",
        }
        response = httpx.post(
            f"{base}/mpesa/stkpush/v1/processrequest",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["ResponseCode"] == "0"
    finally:
        process.terminate()
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()
