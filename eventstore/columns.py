"""Events by columns: what the insights read, as numpy arrays instead of one tuple per event.

A `Columns` holds the `ScanRow` fields of many events: numbers as arrays, strings
dictionary-encoded (an int32 code per event into a table of distinct strings). Rows are ordered by
(ts, event_id). Backends may keep their events this way at write time (`encode_part` /
`decode_parts`: the SQLite store keeps a few parts per day) or build it from a scan
(`Columns.from_rows`); the insights engine only sees `Columns`.

A store may give the visitor and session columns codes of its own, one per distinct value of a
partition (`GLOBAL`, a `Dictionary`): its parts then carry no table for them and reading many parts
costs no string lookups for the columns with the most distinct values.

Order of events with the same millisecond: by event id, compared through its first 128 bits
(`_id_key`: exact for the canonical lower-case UUIDs ingest accepts; for other ids, their first
16 bytes).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter

import numpy as np
import orjson

from .values import ScanRow, StoredEvent

STRINGS = ("type", "visitor_id", "session_id", "path", "referrer", "campaign", "browser", "os",
           "device", "name", "action")  # fmt: skip
NUMBERS = (("ts", np.int64), ("duration_ms", np.int64), ("stages", np.int64),
           ("id_hi", np.uint64), ("id_lo", np.uint64))  # fmt: skip
GLOBAL = ("visitor_id", "session_id")  # columns a store may code per partition
ARRAYS = STRINGS + tuple(name for name, _ in NUMBERS)
MAX_STAGE = 62  # stages are a bit mask in an int64 (funnels have at most 20)
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


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_DASHES = [8, 13, 18, 23]
_DIGITS = [i for i in range(36) if i not in _DASHES]
_SHIFTS = np.arange(60, -1, -4, dtype=np.uint64)


def _id_keys(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`_id_key` of many ids: canonical UUIDs decoded at once, others one by one."""
    n = len(ids)
    hi, lo = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint64)
    raw = "".join(ids).encode("ascii", errors="replace")
    canonical = np.zeros(n, dtype=bool)
    if len(raw) == 36 * n and n:
        chars = np.frombuffer(raw, dtype=np.uint8).reshape(n, 36)
        nibbles = _HEX[chars[:, _DIGITS]].astype(np.uint64)
        canonical = (chars[:, _DASHES] == ord("-")).all(axis=1) & (nibbles != 255).all(axis=1)
        hi = np.bitwise_or.reduce(nibbles[:, :16] << _SHIFTS, axis=1)
        lo = np.bitwise_or.reduce(nibbles[:, 16:] << _SHIFTS, axis=1)
    for i in np.flatnonzero(~canonical):
        hi[i], lo[i] = _id_key(ids[i])
    return hi, lo


def id_keys(ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """`_id_key` of many ids, as two arrays (the halves insights order ties by)."""
    return _id_keys(ids)


def stage_mask(stages: Iterable[int]) -> int:
    mask = 0
    for stage in stages:
        if 0 <= stage <= MAX_STAGE:
            mask |= 1 << stage
    return mask


class Dictionary(Sequence[str]):
    """The strings of a column coded by the store, loaded when first needed (codes are dense,
    0 to N-1, in the order the store assigned them)."""

    def __init__(
        self,
        size: int,
        load: Callable[[], list[str]] | None = None,
        lookup: Callable[[list[int]], dict[int, str]] | None = None,
        extra: Mapping[int, str] | None = None,
    ) -> None:
        self.size = size
        self._load = load
        self._lookup = lookup
        self._extra = dict(extra or {})  # codes given for this read only (not yet stored)
        self._values: list[str] | None = None

    def __len__(self) -> int:
        return self.size

    @property
    def extra(self) -> dict[int, str]:
        """The codes given for this read only (values the store has not coded yet)."""
        return self._extra

    def __getitem__(self, code):
        if code in self._extra:
            return self._extra[code]
        if self._values is None:
            self._values = self._load() if self._load else []
        return self._values[code]

    def strings_of(self, codes: list[int]) -> list[str]:
        """The strings of a few codes (without loading them all, when the store can)."""
        if self._values is not None or self._lookup is None:
            return [self[code] for code in codes]
        found = self._lookup([code for code in codes if code not in self._extra])
        return [self._extra[code] if code in self._extra else found[code] for code in codes]


def strings_of(table: Sequence[str], codes: list[int]) -> list[str]:
    """The strings of some codes of a column's table (a list or a `Dictionary`)."""
    if isinstance(table, Dictionary):
        return table.strings_of(codes)
    return [table[code] for code in codes]


class _Lazy(dict):
    """Arrays by column name, each built on first use: an endpoint reads only its columns."""

    def __init__(self, build: Callable[[str], np.ndarray]) -> None:
        super().__init__()
        self._build = build

    def __missing__(self, name: str) -> np.ndarray:
        if name not in ARRAYS:
            raise KeyError(name)
        array = self[name] = self._build(name)
        return array


class Columns:
    """Events by columns, ordered by (ts, event_id). `codes[name][i]` indexes `tables[name]`;
    `codes` also holds the number columns (`ts`, ...), each built when first read."""

    def __init__(self, arrays: Mapping[str, np.ndarray], tables: dict, length: int) -> None:
        self.codes = arrays
        self.tables = tables
        self._length = length

    ts = property(lambda self: self.codes["ts"])
    duration_ms = property(lambda self: self.codes["duration_ms"])
    stages = property(lambda self: self.codes["stages"])  # bit mask of the stages reached
    id_hi = property(lambda self: self.codes["id_hi"])
    id_lo = property(lambda self: self.codes["id_lo"])

    def __len__(self) -> int:
        return self._length

    @classmethod
    def empty(cls) -> Columns:
        return _from_lists({name: [] for name in STRINGS}, {n: [] for n, _ in NUMBERS}, {})

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

    def take(self, pick: np.ndarray | slice) -> Columns:
        """The selected rows (a boolean mask, ascending indexes or a slice), tables shared."""
        parent = self.codes
        if isinstance(pick, slice):
            length = len(range(*pick.indices(len(self))))
        else:
            length = int(np.count_nonzero(pick)) if pick.dtype == bool else len(pick)
        return Columns(_Lazy(lambda name: parent[name][pick]), self.tables, length)

    def between(self, start_ms: int, end_ms: int) -> Columns:
        lo, hi = (int(i) for i in np.searchsorted(self.ts, [start_ms, end_ms], side="left"))
        return self if (lo, hi) == (0, len(self)) else self.take(slice(lo, hi))


def recoded(columns: Columns, remaps: Mapping[str, np.ndarray]) -> Columns:
    """The same columns, the store-coded columns of `remaps` coded again (`remap[code]`: a
    batch's own codes to the store's)."""
    codes, tables = dict(columns.codes), dict(columns.tables)
    for name, remap in remaps.items():
        codes[name] = remap[columns.codes[name]].astype(np.int32)
        tables[name] = Dictionary(int(codes[name].max()) + 1 if len(columns) else 0)
    return Columns(codes, tables, len(columns))


def _from_lists(strings: dict, numbers: dict, tables: dict) -> Columns:
    arrays = {name: np.asarray(numbers[name], dtype=dtype) for name, dtype in NUMBERS}
    arrays |= {name: np.asarray(strings[name], dtype=np.int32) for name in STRINGS}
    return Columns(arrays, {name: tables.get(name, []) for name in STRINGS}, len(arrays["ts"]))


def _build(
    ordered: Sequence[ScanRow | StoredEvent], coded: Mapping[str, Mapping[str, int]] | None = None
) -> Columns:
    """Columns of events already in (ts, event_id) order; `coded`: the store's codes of some
    string columns (those columns get a `Dictionary` for table). Written with C-level idioms
    (map, dict.fromkeys): ingest runs this for every stored event."""
    names = (*STRINGS, "event_id", "ts", "duration_ms", "stages")
    return build_columns({name: list(map(attrgetter(name), ordered)) for name in names}, coded)


def build_columns(
    values: Mapping[str, Sequence], coded: Mapping[str, Mapping[str, int]] | None = None
) -> Columns:
    """`_build` of events given by their fields' values (`STRINGS`, `event_id`, `ts`,
    `duration_ms`, `stages` as a StoredEvent holds them; `id_hi` and `id_lo`, `id_keys` of the
    ids, if known), already in (ts, event_id) order."""
    codes, tables = {}, {}
    for name in STRINGS:
        column = values[name]
        if coded and name in coded:
            codes[name] = list(map(coded[name].__getitem__, column))
            tables[name] = Dictionary(max(codes[name], default=-1) + 1)
            continue
        table = list(dict.fromkeys(column))
        index = dict(zip(table, range(len(table)), strict=True))
        codes[name] = list(map(index.__getitem__, column))
        tables[name] = table
    if "id_hi" in values:  # given (`id_keys` of the ids)
        id_hi, id_lo = values["id_hi"], values["id_lo"]
    else:
        id_hi, id_lo = _id_keys(list(values["event_id"]))
    numbers = {
        "ts": values["ts"],
        "duration_ms": values["duration_ms"],
        "stages": [stage_mask(s) if s else 0 for s in values["stages"]],
        "id_hi": id_hi,
        "id_lo": id_lo,
    }
    return _from_lists(codes, numbers, tables)


# --- parts: columns as bytes, for stores that keep them ------------------------------------------

DTYPES = {**{name: np.int32 for name in STRINGS}, **dict(NUMBERS)}


@dataclass
class Part:
    """Some events by columns, as a store keeps them: a header (`n` events, the first ts, the
    string tables; None for a store-coded column, whose largest code is in `top`) and each
    column's bytes by name (`data` may fetch a column when first asked for it)."""

    n: int
    first_ts: int
    tables: dict[str, list[str] | None]
    top: dict[str, int]
    data: Mapping[str, bytes]
    extra: dict[str, dict[int, str]] = field(default_factory=dict)  # codes not yet stored

    def header(self) -> bytes:
        return orjson.dumps({"n": self.n, "tables": self.tables, "top": self.top})

    @classmethod
    def from_header(cls, header: bytes | str, first_ts: int, data: Mapping[str, bytes]) -> Part:
        values = orjson.loads(header)
        return cls(values["n"], first_ts, values["tables"], values["top"], data)


def encode_part(
    events: Sequence[StoredEvent], dictionary: Mapping[str, Mapping[str, int]] | None = None
) -> Part:
    """One part of the given events (any order, no duplicates). `dictionary`: the store's codes
    of the `GLOBAL` columns' values (the part then stores those codes, and no table)."""
    return _part(_build(sorted(events, key=_by_order), dictionary))


def encode_columns(columns: Columns) -> Part:
    """The part of events already by columns (`build_columns`)."""
    return _part(columns)


def _part(columns: Columns) -> Part:
    coded = {n: t for n, t in columns.tables.items() if isinstance(t, Dictionary)}
    return Part(
        n=len(columns),
        first_ts=int(columns.ts[0]) if len(columns) else 0,
        tables={name: None if name in coded else table for name, table in columns.tables.items()},
        top={name: len(table) - 1 for name, table in coded.items()},
        data={name: columns.codes[name].astype(DTYPES[name]).tobytes() for name in ARRAYS},
    )


def decode_parts(
    parts: Sequence[Part], dictionaries: Mapping[str, tuple[Callable, Callable]] | None = None
) -> Columns:
    """The columns of parts (any order, disjoint events), merged into one (ts, event_id) order.
    `dictionaries`: per store-coded column, its (load all, look up some) strings functions.
    Only `ts` is merged here (and the ids of events of the same ms); other columns when first
    read."""
    parts = sorted((part for part in parts if part.n), key=lambda part: part.first_ts)
    if not parts:
        return Columns.empty()
    tables, remaps, offsets = {}, {}, {}
    for name in STRINGS:
        if parts[0].tables[name] is None:
            size = max(part.top[name] for part in parts) + 1
            extra = {c: v for part in parts for c, v in part.extra.get(name, {}).items()}
            load, lookup = (dictionaries or {}).get(name, (None, None))
            tables[name] = Dictionary(size, load, lookup, extra)
            continue
        index: dict[str, int] = {}  # each distinct string gets one code
        strings = [value for part in parts for value in part.tables[name]]
        remaps[name] = np.array([index.setdefault(v, len(index)) for v in strings], np.int32)
        tables[name] = list(index)
        offsets[name] = np.cumsum([0] + [len(part.tables[name]) for part in parts[:-1]])

    def unordered(name: str) -> np.ndarray:
        pieces = [np.frombuffer(part.data[name], dtype=DTYPES[name]) for part in parts]
        if name in remaps:
            pieces = [p + o for p, o in zip(pieces, offsets[name], strict=True)]
            return remaps[name][np.concatenate(pieces)]
        return np.concatenate(pieces)

    ts = unordered("ts")
    order = _order(ts, unordered)
    arrays = _Lazy(lambda name: unordered(name) if order is None else unordered(name)[order])
    arrays["ts"] = ts if order is None else ts[order]
    return Columns(arrays, tables, len(ts))


def merge_parts(parts: Sequence[Part]) -> Part:
    """One part holding the events of several parts."""
    return _part(decode_parts(parts))


def _order(ts: np.ndarray, unordered: Callable[[str], np.ndarray]) -> np.ndarray | None:
    """The permutation that sorts rows by (ts, id), None when they are sorted: a stable sort by
    ts (parts are sorted runs), then only the runs of equal ts sorted by id."""
    order = np.argsort(ts, kind="stable")
    in_order = ts[order]
    tied = np.flatnonzero(in_order[1:] == in_order[:-1])
    if len(tied):
        in_tie = np.zeros(len(ts), dtype=bool)
        in_tie[tied] = in_tie[tied + 1] = True
        positions = np.flatnonzero(in_tie)
        rows = order[positions]
        order[positions] = rows[_by_id(in_order[positions], unordered, rows)]
    return None if np.array_equal(order, np.arange(len(order))) else order


def _by_id(ts: np.ndarray, unordered: Callable[[str], np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The order of tied rows (ascending ts) by (ts, id_hi, id_lo): one sort of (ts rank, top
    40 bits of id_hi) when that key tells every pair apart, else a full lexsort."""
    hi = unordered("id_hi")[rows]
    run = np.cumsum(np.r_[True, ts[1:] != ts[:-1]]) - 1
    if run[-1] < 2**23:
        key = (run.astype(np.uint64) << np.uint64(40)) | (hi >> np.uint64(24))
        by = np.argsort(key, kind="stable")
        if not (key[by][1:] == key[by][:-1]).any():
            return by
    return np.lexsort((unordered("id_lo")[rows], hi, ts))


# --- batches: events by columns, for bulk imports ------------------------------------------------

EVENT_FIELDS = tuple(f.name for f in fields(StoredEvent))


class EventBatch:
    """Many events by columns, for bulk imports (`EventStore.import_columns`): per field of
    `StoredEvent`, a sequence of one value per event (the same event at the same index of every
    column), values exactly as a StoredEvent holds them. Events in any order."""

    def __init__(self, columns: Mapping[str, Sequence]) -> None:
        if tuple(columns) != EVENT_FIELDS:
            raise ValueError(f"a batch has the columns {EVENT_FIELDS}, in that order")
        lengths = {len(values) for values in columns.values()}
        if len(lengths) > 1:
            raise ValueError("a batch's columns have different lengths")
        self.columns = dict(columns)
        self._length = lengths.pop()

    @classmethod
    def of_rows(cls, rows: Sequence[Sequence]) -> EventBatch:
        """The batch of rows, each StoredEvent's fields in order."""
        if not rows:
            return cls({name: () for name in EVENT_FIELDS})
        return cls(dict(zip(EVENT_FIELDS, zip(*rows, strict=True), strict=True)))

    @classmethod
    def of_events(cls, events: Sequence[StoredEvent]) -> EventBatch:
        return cls.of_rows(list(map(attrgetter(*EVENT_FIELDS), events)))

    def __len__(self) -> int:
        return self._length

    def events(self) -> list[StoredEvent]:
        """The batch's events as StoredEvents (what stores without a bulk path import)."""
        return [StoredEvent(*row) for row in zip(*self.columns.values(), strict=True)]
