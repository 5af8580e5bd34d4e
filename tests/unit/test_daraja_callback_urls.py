"""Daraja refuses callback URLs containing some words; ours must never contain them."""

from __future__ import annotations

import inspect

import pytest

from easyisp_core.rules.mpesa import daraja_accepts_url, new_callback_token
from radius_service.http import callbacks


@pytest.mark.parametrize(
    "url",
    [
        "https://isp.example/mpesa/x/stk",
        "https://isp.example/pay/abcSQLdef/stk",
        "https://isp.example/pay/x/c2b/Query",
        "https://safaricom.isp.example/pay/x",
    ],
)
def test_urls_with_a_refused_word_are_recognised(url: str) -> None:
    assert not daraja_accepts_url(url)


def test_every_callback_route_is_one_daraja_accepts() -> None:
    source = inspect.getsource(callbacks.CallbackEndpoints.routes)
    paths = [line.split('"')[1] for line in source.splitlines() if 'Route("' in line]
    assert len(paths) >= 4
    for path in paths:
        assert daraja_accepts_url(path.replace("{token}", "t")), path


def test_new_tokens_are_long_and_acceptable() -> None:
    tokens = {new_callback_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) >= 43 and daraja_accepts_url(t) for t in tokens)
