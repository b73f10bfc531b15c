"""Column part bytes as stored in Cassandra: each column in the narrowest integer type that holds
it (codes of a day's strings rarely need more than 16 bits; times are stored as the gaps
between consecutive events), cut into chunks that stay far below the mutation size limit.

A stored column: a header (kind, dtype, base) then the values. `kind` OFFSET: value = base +
stored; DELTAS (sorted columns: ts): value = base + cumulative sum of stored.
"""

from __future__ import annotations

import struct

import numpy as np

from ..columns import DTYPES

CHUNK_BYTES = 1 << 20  # bytes per stored chunk (Cassandra refuses mutations > half a segment)
OFFSET, DELTAS = 0, 1
_WIDTHS = (np.uint8, np.uint16, np.uint32, np.uint64, np.int64)
_HEADER = struct.Struct("<BBq")
SORTED = ("ts",)


def encode(name: str, values: np.ndarray) -> bytes:
    """A column's values (of DTYPES[name]) as stored bytes."""
    return encode_values(np.asarray(values, dtype=DTYPES[name]), deltas=name in SORTED)


def encode_values(values: np.ndarray, *, deltas: bool = False) -> bytes:
    """Integer values as stored bytes (`deltas`: as gaps when they are sorted)."""
    if not len(values):
        return _HEADER.pack(OFFSET, 0, 0)
    if values.dtype == np.uint64:
        return _narrow(OFFSET, 0, values, int(values.max()))
    if deltas and (values[1:] >= values[:-1]).all():
        gaps = np.diff(values.astype(np.int64))
        base = int(values[0])
        return _narrow(DELTAS, base, np.concatenate(([0], gaps)), int(gaps.max(initial=0)))
    low, high = int(values.min()), int(values.max())
    if high - low >= 2**63:
        return _HEADER.pack(OFFSET, _WIDTHS.index(np.int64), 0) + values.astype("<i8").tobytes()
    return _narrow(OFFSET, low, values.astype(np.int64) - low, high - low)


def _narrow(kind: int, base: int, stored: np.ndarray, largest: int) -> bytes:
    for index, width in enumerate(_WIDTHS[:4]):
        if largest <= np.iinfo(width).max:
            return _HEADER.pack(kind, index, base) + stored.astype(width).tobytes()
    raise ValueError("a column value does not fit 64 bits")


def decode(name: str, blob: bytes) -> np.ndarray:
    """The values of a stored column, as DTYPES[name]."""
    return decode_values(blob, DTYPES[name])


def decode_values(blob, target: type) -> np.ndarray:
    """Values stored by `encode_values` (bytes or a memoryview), as dtype `target`."""
    kind, width, base = _HEADER.unpack_from(blob)
    stored = np.frombuffer(blob, dtype=_WIDTHS[width], offset=_HEADER.size)
    if kind == DELTAS:
        return (np.cumsum(stored, dtype=np.int64) + base).astype(target, copy=False)
    if base == 0:
        return stored.astype(target)
    if target == np.uint64:
        return stored.astype(np.uint64) + np.uint64(base)
    return (stored.astype(np.int64) + base).astype(target, copy=False)


def chunks(blob: bytes) -> list[bytes]:
    """A stored column cut into chunks (at least one)."""
    return [blob[i : i + CHUNK_BYTES] for i in range(0, max(len(blob), 1), CHUNK_BYTES)]
