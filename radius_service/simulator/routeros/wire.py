"""RouterOS API framing (protocols.md §2.2): length-prefixed words, sentences ended by an
empty word. The decoder is incremental and raises only WireError on bad input."""

from __future__ import annotations

from collections.abc import Iterable

# Past this size a word is refused: a garbage length prefix must not make us buffer gigabytes.
DEFAULT_MAX_WORD = 1 << 20
DEFAULT_MAX_WORDS = 4096
_FIVE_BYTE_MARK = 0xF0


class WireError(Exception):
    """The byte stream is not a valid RouterOS API sentence stream."""


def encode_length(length: int) -> bytes:
    """All five size classes of the length prefix, big-endian."""
    if length < 0:
        raise ValueError("a length is never negative")
    if length < 0x80:
        return bytes([length])
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    if length <= 0xFFFFFFFF:
        return bytes([_FIVE_BYTE_MARK]) + length.to_bytes(4, "big")
    raise ValueError(f"a word of {length} bytes cannot be encoded")


def prefix_size(first_byte: int) -> int:
    """How many bytes the length prefix takes, read from its first byte."""
    if first_byte < 0x80:
        return 1
    if first_byte < 0xC0:
        return 2
    if first_byte < 0xE0:
        return 3
    if first_byte < 0xF0:
        return 4
    if first_byte == _FIVE_BYTE_MARK:
        return 5
    raise WireError(f"reserved control byte 0x{first_byte:02X}")


def decode_length(prefix: bytes) -> int:
    """Inverse of encode_length; `prefix` is exactly the prefix bytes."""
    size = prefix_size(prefix[0])
    if len(prefix) != size:
        raise WireError("truncated length prefix")
    if size == 5:
        return int.from_bytes(prefix[1:], "big")
    masks = {1: 0, 2: 0x8000, 3: 0xC00000, 4: 0xE0000000}
    return int.from_bytes(prefix, "big") ^ masks[size]


def encode_word(word: str | bytes) -> bytes:
    raw = word.encode("utf-8") if isinstance(word, str) else word
    return encode_length(len(raw)) + raw


def encode_sentence(words: Iterable[str | bytes]) -> bytes:
    return b"".join(encode_word(word) for word in words) + b"\x00"


class SentenceDecoder:
    """Feed bytes as they arrive; get back every sentence completed so far."""

    def __init__(
        self, *, max_word: int = DEFAULT_MAX_WORD, max_words: int = DEFAULT_MAX_WORDS
    ) -> None:
        self._buffer = bytearray()
        self._words: list[bytes] = []
        self.max_word = max_word
        self.max_words = max_words

    def feed(self, data: bytes) -> list[list[bytes]]:
        self._buffer += data
        sentences: list[list[bytes]] = []
        while self._buffer:
            size = prefix_size(self._buffer[0])
            if len(self._buffer) < size:
                break
            length = decode_length(bytes(self._buffer[:size]))
            if length > self.max_word:
                raise WireError(f"word of {length} bytes is over the {self.max_word} limit")
            if len(self._buffer) < size + length:
                break
            word = bytes(self._buffer[size : size + length])
            del self._buffer[: size + length]
            if length == 0:
                # A bare end-of-sentence byte between sentences is ignored, as RouterOS does.
                if self._words:
                    sentences.append(self._words)
                    self._words = []
                continue
            self._words.append(word)
            if len(self._words) > self.max_words:
                raise WireError(f"sentence has more than {self.max_words} words")
        return sentences

    @property
    def pending(self) -> bool:
        """True when a sentence has started but not ended."""
        return bool(self._buffer or self._words)
