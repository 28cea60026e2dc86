"""The CoNLL export's tokenizer, a fingerprint of it, and the packed form stored token boundaries take."""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections.abc import Iterable

from annotations.exports.conll import TOKEN, tokenize

# Stored boundaries are valid for one tokenizer: a change to the CoNLL export's token pattern changes this
# fingerprint, and every article is tokenized again on its next agreement run.
TOKENIZER = hashlib.sha256(f"{TOKEN.pattern}\0{TOKEN.flags}".encode()).hexdigest()[:16]

_SWAP = sys.byteorder == "little"  # stored big-endian, as PostgreSQL's int4send and int8send write integers
assert array("i").itemsize == 4 and array("q").itemsize == 8


def pack(values: Iterable[int]) -> bytes:
    """4-byte big-endian integers."""
    packed = array("i", values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


def unpack(data: bytes | memoryview, typecode: str = "i") -> array:
    """The integers ``pack`` (or a string of PostgreSQL ``int4send`` values) holds; ``typecode="q"`` reads
    ``int8send`` values."""
    values = array(typecode)
    values.frombytes(data)
    if _SWAP:
        values.byteswap()
    return values


def boundaries(body: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the CoNLL export's tokens of ``body``."""
    tokens = tokenize(body)
    return [t.start for t in tokens], [t.end for t in tokens]
