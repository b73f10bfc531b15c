"""Events by columns: what the insights read, as numpy arrays instead of one tuple per event.

A `Columns` holds the `ScanRow` fields of many events: numbers as arrays, strings
dictionary-encoded (an int32 code per event into a table of distinct strings). Rows are ordered by
(ts, event_id). Backends may keep their events this way at write time (`encode_part` /
`decode_parts`: the SQLite store keeps one or more parts per hour) or build it from a scan
(`Columns.from_rows`); the insights engine only sees `Columns`.

Order of events with the same millisecond: by event id, compared through its first 128 bits
(`_id_key`: exact for the canonical lower-case UUIDs ingest accepts; for other ids, their first
16 bytes).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np
import orjson

from .base import ScanRow, StoredEvent

STRINGS = ("type", "visitor_id", "session_id", "path", "referrer", "campaign", "browser", "os",
           "device", "name", "action")  # fmt: skip
NUMBERS = (("ts", np.int64), ("duration_ms", np.int64), ("stages", np.int64),
           ("id_hi", np.uint64), ("id_lo", np.uint64))  # fmt: skip
MAX_STAGE = 62  # stages are a bit mask in an int64 (funnels have at most 20)
_FORMAT = 1
_HEADER = struct.Struct("<BI")  # format, header length
_by_order = attrgetter("ts", "event_id")


def _id_key(event_id: str) -> tuple[int, int]:
    """Two 64-bit halves that order like the id string (see the module docstring)."""
    if len(event_id) == 36:
        try:
            value = uuid.UUID(event_id).int
        except ValueError:
            pass
        else:
            if str(uuid.UUID(int=value)) == event_id:
                return value >> 64, value & (2**64 - 1)
    raw = event_id.encode()[:16].ljust(16, b"\0")
    return int.from_bytes(raw[:8], "big"), int.from_bytes(raw[8:], "big")


def stage_mask(stages: Iterable[int]) -> int:
    mask = 0
    for stage in stages:
        if 0 <= stage <= MAX_STAGE:
            mask |= 1 << stage
    return mask


@dataclass
class Columns:
    """Events by columns, ordered by (ts, event_id). `codes[name][i]` indexes `tables[name]`."""

    ts: np.ndarray
    duration_ms: np.ndarray
    stages: np.ndarray  # bit mask of the 0-based stages each event reached
    id_hi: np.ndarray
    id_lo: np.ndarray
    codes: dict[str, np.ndarray]
    tables: dict[str, list[str]]

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> Columns:
        return _from_lists(0, {name: [] for name in STRINGS}, {n: [] for n, _ in NUMBERS}, {})

    @classmethod
    def from_rows(cls, rows: Iterable[ScanRow | StoredEvent]) -> Columns:
        """Columns of rows given in any order (the generic path of a backend: its scan)."""
        return _build(sorted(rows, key=_by_order))

    def code_of(self, name: str, value: str) -> int:
        """The code of `value` in column `name`, or -1 when no event has it."""
        try:
            return self.tables[name].index(value)
        except ValueError:
            return -1

    def strings(self, name: str) -> np.ndarray:
        """The table of column `name` as an object array (index it with codes)."""
        return np.array(self.tables[name] + [""], dtype=object)[:-1]

    def take(self, mask_or_index: np.ndarray) -> Columns:
        """The selected rows (a boolean mask or ascending indexes), tables shared."""
        pick = mask_or_index
        return Columns(
            ts=self.ts[pick], duration_ms=self.duration_ms[pick], stages=self.stages[pick],
            id_hi=self.id_hi[pick], id_lo=self.id_lo[pick],
            codes={name: codes[pick] for name, codes in self.codes.items()}, tables=self.tables,
        )  # fmt: skip

    def between(self, start_ms: int, end_ms: int) -> Columns:
        lo, hi = np.searchsorted(self.ts, [start_ms, end_ms], side="left")
        return self.take(np.arange(lo, hi))


def _from_lists(n: int, strings: dict, numbers: dict, tables: dict) -> Columns:
    return Columns(
        **{name: np.asarray(numbers[name], dtype=dtype) for name, dtype in NUMBERS},
        codes={name: np.asarray(strings[name], dtype=np.int32) for name in STRINGS},
        tables={name: tables.get(name, []) for name in STRINGS},
    )


def _build(ordered: Sequence[ScanRow | StoredEvent]) -> Columns:
    """Columns of events already in (ts, event_id) order."""
    codes, tables = {}, {}
    for name in STRINGS:
        index: dict[str, int] = {}
        values = map(attrgetter(name), ordered)
        codes[name] = [index.setdefault(value, len(index)) for value in values]
        tables[name] = list(index)
    keys = [_id_key(row.event_id) for row in ordered]
    numbers = {
        "ts": [row.ts for row in ordered],
        "duration_ms": [row.duration_ms for row in ordered],
        "stages": [stage_mask(row.stages) for row in ordered],
        "id_hi": [hi for hi, _ in keys],
        "id_lo": [lo for _, lo in keys],
    }
    return _from_lists(len(ordered), codes, numbers, tables)


# --- parts: columns as bytes, for stores that keep them ------------------------------------------


def encode_part(events: Sequence[StoredEvent]) -> bytes:
    """One part of the given events (any order, no duplicates)."""
    return _encode(_build(sorted(events, key=_by_order)))


def _encode(columns: Columns) -> bytes:
    header = orjson.dumps({"n": len(columns), "tables": columns.tables})
    arrays = [columns.codes[name] for name in STRINGS]
    arrays += [getattr(columns, name) for name, _ in NUMBERS]
    return _HEADER.pack(_FORMAT, len(header)) + header + b"".join(a.tobytes() for a in arrays)


def _decode(blob: bytes) -> tuple[int, dict[str, list[str]], dict[str, np.ndarray], dict]:
    version, length = _HEADER.unpack_from(blob)
    if version != _FORMAT:
        raise ValueError(f"unknown column part format {version}")
    offset = _HEADER.size + length
    header = orjson.loads(blob[_HEADER.size : offset])
    n = header["n"]
    codes = {}
    for name in STRINGS:
        codes[name] = np.frombuffer(blob, dtype=np.int32, count=n, offset=offset)
        offset += 4 * n
    numbers = {}
    for name, dtype in NUMBERS:
        numbers[name] = np.frombuffer(blob, dtype=dtype, count=n, offset=offset)
        offset += 8 * n
    return n, header["tables"], codes, numbers


def decode_parts(blobs: Iterable[bytes]) -> Columns:
    """The columns of parts (any order, disjoint events), merged into one (ts, event_id) order."""
    strings: dict[str, list[str]] = {name: [] for name in STRINGS}
    codes: dict[str, list[np.ndarray]] = {name: [] for name in STRINGS}
    numbers: dict[str, list[np.ndarray]] = {name: [] for name, _ in NUMBERS}
    for blob in blobs:
        n, part_tables, part_codes, part_numbers = _decode(blob)
        if not n:
            continue
        for name in STRINGS:  # codes into the concatenation of every part's table
            codes[name].append(part_codes[name] + len(strings[name]))
            strings[name] += part_tables[name]
        for name, _ in NUMBERS:
            numbers[name].append(part_numbers[name])
    if not numbers["ts"]:
        return Columns.empty()
    tables, merged_codes = {}, {}
    for name in STRINGS:  # one pass per column: each distinct string gets one code
        index: dict[str, int] = {}
        remap = np.array([index.setdefault(v, len(index)) for v in strings[name]], np.int32)
        merged_codes[name] = remap[np.concatenate(codes[name])]
        tables[name] = list(index)
    merged = Columns(
        **{name: np.concatenate(arrays) for name, arrays in numbers.items()},
        codes=merged_codes,
        tables=tables,
    )
    return _in_order(merged)


def merge_parts(blobs: Iterable[bytes]) -> bytes:
    """One part holding the events of several parts."""
    return _encode(decode_parts(blobs))


def _in_order(columns: Columns) -> Columns:
    """Rows sorted by (ts, id): a stable sort by ts (parts are sorted runs), then only the runs
    of equal ts sorted by id."""
    order = np.argsort(columns.ts, kind="stable")
    ts = columns.ts[order]
    tied = np.flatnonzero(ts[1:] == ts[:-1])
    if len(tied):
        positions = np.union1d(tied, tied + 1)
        rows = order[positions]
        by_id = np.lexsort((columns.id_lo[rows], columns.id_hi[rows], ts[positions]))
        order[positions] = rows[by_id]
    if np.array_equal(order, np.arange(len(order))):
        return columns
    return columns.take(order)
