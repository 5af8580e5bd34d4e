"""The OAuth token against the Daraja double over real HTTP: cached, renewed before expiry,
fetched once for many concurrent callers, refetched once after Daraja refuses it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from radius_service.mpesa.client import DarajaClient
from radius_service.mpesa.errors import DarajaInvalidCredentials, DarajaRateLimited
from radius_service.simulator.daraja.runner import DarajaSimulator
from radius_service.simulator.daraja.state import SimulatorConfig
from tests.service.mpesa.conftest import control, make_client, run


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_is_fetched_once_and_reused(simulator: DarajaSimulator) -> None:
    async def work() -> tuple[str, str]:
        async with make_client(simulator) as client:
            return await client.tokens.get(), await client.tokens.get()

    first, second = run(work)
    assert first == second
    assert control(simulator, "transactions")["tokens_issued"] == 1


def test_concurrent_callers_share_one_fetch(simulator: DarajaSimulator) -> None:
    async def work() -> set[str]:
        async with make_client(simulator) as client:
            tokens = await asyncio.gather(*(client.tokens.get() for _ in range(25)))
            assert client.tokens.fetches == 1
            return set(tokens)

    assert len(run(work)) == 1
    assert control(simulator, "transactions")["tokens_issued"] == 1


def test_token_is_renewed_a_minute_before_it_expires(simulator: DarajaSimulator) -> None:
    clock = FakeClock()

    async def work() -> list[str]:
        async with make_client(simulator, clock=clock) as client:
            seen = [await client.tokens.get()]
            clock.now += 3599 - 61  # still more than a minute left: cached
            seen.append(await client.tokens.get())
            clock.now += 2  # under a minute left: renewed
            seen.append(await client.tokens.get())
            return seen

    first, cached, renewed = run(work)
    assert first == cached != renewed
    assert control(simulator, "transactions")["tokens_issued"] == 2


@pytest.mark.parametrize("sim_config", [SimulatorConfig(expires_in_as_string=False)])
def test_numeric_expires_in_is_accepted(simulator: DarajaSimulator) -> None:
    async def work() -> str:
        async with make_client(simulator) as client:
            return await client.tokens.get()

    assert run(work)


def test_refused_token_is_replaced_once_and_the_call_goes_through(
    simulator: DarajaSimulator,
) -> None:
    async def work() -> None:
        async with make_client(simulator) as client:
            await client.tokens.get()
            control(simulator, "tokens/expire", {})
            # Ten calls see the refusal together; they share one new token.
            await asyncio.gather(
                *(
                    client.register_c2b_urls(
                        shortcode=simulator.config.shortcode,
                        confirmation_url="http://127.0.0.1:9/confirm",
                        validation_url="http://127.0.0.1:9/validate",
                    )
                    for _ in range(10)
                )
            )

    run(work)
    assert control(simulator, "transactions")["tokens_issued"] == 2


def test_wrong_consumer_secret_is_invalid_credentials_and_not_retried(
    simulator: DarajaSimulator,
) -> None:
    async def work() -> DarajaClient:
        client = DarajaClient(simulator.url, simulator.config.consumer_key, "wrong-secret")
        async with client:
            with pytest.raises(DarajaInvalidCredentials, match="Invalid Authentication") as caught:
                await client.tokens.get()
            assert caught.value.error_code == "400.008.01"
        return client

    client = run(work)
    assert client.tokens.fetches == 1
    assert control(simulator, "transactions")["tokens_issued"] == 0


def test_rate_limited_token_fetch_is_retried(simulator: DarajaSimulator) -> None:
    control(simulator, "rate-limit", {"requests": 2, "status": 429})

    async def work() -> int:
        async with make_client(simulator) as client:
            await client.tokens.get()
            return client.tokens.fetches

    assert run(work) == 3


def test_rate_limit_that_outlasts_the_retries_is_reported(simulator: DarajaSimulator) -> None:
    control(simulator, "rate-limit", {"requests": 10, "status": 429})

    async def work() -> None:
        async with make_client(simulator) as client:
            with pytest.raises(DarajaRateLimited, match="Spike Arrest"):
                await client.tokens.get()

    run(work)
    assert control(simulator, "transactions")["rate_limited_remaining"] == 7


@pytest.mark.parametrize(
    ("method", "query", "auth", "status", "code"),
    [
        (
            "GET",
            "grant_type=password",
            ("easyisp-sim-key", "easyisp-sim-secret"),
            400,
            "400.008.02",
        ),
        ("GET", "grant_type=client_credentials", None, 400, "400.008.01"),
        (
            "POST",
            "grant_type=client_credentials",
            ("easyisp-sim-key", "easyisp-sim-secret"),
            404,
            "404.001.04",
        ),
    ],
)
def test_simulator_token_endpoint_refuses_as_daraja_does(
    simulator: DarajaSimulator,
    method: str,
    query: str,
    auth: tuple[str, str] | None,
    status: int,
    code: str,
) -> None:
    response = httpx.request(method, f"{simulator.url}/oauth/v1/generate?{query}", auth=auth)
    assert response.status_code == status
    assert response.json()["errorCode"] == code
