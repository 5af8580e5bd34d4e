"""The simulator's word/sentence codec: all five length classes, round trips, garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from librouteros.protocol import encode_length as librouteros_encode_length

from radius_service.simulator.routeros.wire import (
    SentenceDecoder,
    WireError,
    decode_length,
    encode_length,
    encode_sentence,
)

BOUNDARIES = [
    (0, 1), (0x7F, 1), (0x80, 2), (0x3FFF, 2), (0x4000, 3), (0x1FFFFF, 3),
    (0x200000, 4), (0xFFFFFFF, 4), (0x10000000, 5), (0xFFFFFFFF, 5),
]  # fmt: skip


@pytest.mark.parametrize(("length", "size"), BOUNDARIES)
def test_each_length_class_has_its_prefix_size(length: int, size: int) -> None:
    prefix = encode_length(length)
    assert len(prefix) == size
    assert decode_length(prefix) == length


def test_the_five_byte_form_starts_with_f0() -> None:
    assert encode_length(0x10000000) == b"\xf0\x10\x00\x00\x00"


@given(st.integers(0, 0xFFFFFFF))
def test_lengths_match_librouteros(length: int) -> None:
    assert encode_length(length) == librouteros_encode_length(length)


@given(st.integers(0, 0xFFFFFFFF))
def test_any_length_round_trips(length: int) -> None:
    assert decode_length(encode_length(length)) == length


words = st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.lists(words, min_size=1, max_size=5), st.integers(1, 64))
def test_sentences_round_trip_whatever_the_chunking(
    sentences: list[list[bytes]], chunk: int
) -> None:
    stream = b"".join(encode_sentence(sentence) for sentence in sentences)
    decoder = SentenceDecoder()
    decoded = []
    for start in range(0, len(stream), chunk):
        decoded += decoder.feed(stream[start : start + chunk])
    assert decoded == sentences
    assert not decoder.pending


def test_a_long_word_uses_the_three_byte_prefix_and_round_trips() -> None:
    word = b"x" * 0x4000
    encoded = encode_sentence([b"/ppp/secret/add", b"=comment=" + word])
    assert SentenceDecoder().feed(encoded) == [[b"/ppp/secret/add", b"=comment=" + word]]


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_decodes_or_raises_wire_error(data: bytes) -> None:
    decoder = SentenceDecoder(max_word=4096)
    try:
        sentences = decoder.feed(data)
    except WireError:
        return
    assert all(sentence and all(sentence) for sentence in sentences)


@pytest.mark.parametrize("control", [0xF1, 0xF8, 0xFF])
def test_reserved_control_bytes_are_refused(control: int) -> None:
    with pytest.raises(WireError, match="reserved control byte"):
        SentenceDecoder().feed(bytes([control, 0, 0, 0, 0]))


def test_an_oversized_word_is_refused_before_it_is_buffered() -> None:
    with pytest.raises(WireError, match="limit"):
        SentenceDecoder(max_word=1024).feed(encode_length(0xFFFFFFFF))
