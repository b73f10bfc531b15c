"""Reading events by columns: sealed column parts, plus the raw rows of what no part holds yet.

A read of [start, end) takes, slot by slot (`buckets.SLOT_MS`), one source: the day's part if
it covers the slot up to the slot's latest late marker, else the slot's own part under the same
rule, else the slot's raw rows (unsealed slots, slots with late events not yet resealed, parts
not built yet). Sources are disjoint in time and each is ordered by (ts, event_id), so their
pieces, concatenated in time order, are the range's events in order: exact whatever has been
built, never lagging. String columns are coded per source; the merge gives each distinct
string one code.

A part replaced (and deleted) between reading its description and its bytes is found
incomplete (`StalePart`): the read starts again without it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..columns import ARRAYS, STRINGS, Columns
from ..values import MS_PER_DAY, StoreUnavailable
from .buckets import DAY, HOUR_MS, MARK, SLOT, SLOT_MS, day_of, hour_of
from .connection import paged_rows
from .parts import PartInfo, StalePart, StoredColumns
from .statements import scan_row

ATTEMPTS = 4  # reads of a range, each without the parts found incomplete by the one before
RAW_INDEX_FROM = 4  # hour partitions to read raw from which the hour index is asked first


@dataclass
class Layout:
    """The `parts` rows of some days: day parts, slot parts, late markers (write time, us)."""

    days: dict[int, PartInfo] = field(default_factory=dict)
    slots: dict[int, PartInfo] = field(default_factory=dict)
    marks: dict[int, int] = field(default_factory=dict)

    def source(self, slot: int, excluded: set) -> PartInfo | None:
        """The part that holds the slot's events, or None (read its raw rows)."""
        mark = self.marks.get(slot, -1)
        day = self.days.get(day_of(slot))
        if day is not None and key_of(day) not in excluded and day.covers(slot) >= mark:
            return day
        own = self.slots.get(slot)
        if own is not None and key_of(own) not in excluded and own.cover[0] >= mark:
            return own
        return None


def key_of(info: PartInfo) -> tuple[int, int, int]:
    return (info.level, info.bucket, info.version)


@dataclass(frozen=True)
class Run:
    """Consecutive time [start, end) taken from one source (None: raw rows)."""

    source: PartInfo | None
    start: int
    end: int


def runs_of(sources: Iterable[tuple[int, PartInfo | None]], start: int, end: int) -> list[Run]:
    """(slot, source) pairs in slot order -> runs clipped to [start, end)."""
    runs: list[Run] = []
    for slot, source in sources:
        a, b = max(slot, start), min(slot + SLOT_MS, end)
        if a >= b:
            continue
        if runs and runs[-1].source is source and runs[-1].end == a:
            runs[-1] = Run(source, runs[-1].start, b)
        else:
            runs.append(Run(source, a, b))
    return runs


class PartReader:
    """Reads of the `parts`, `part_columns` and raw tables for one store."""

    def __init__(self, store) -> None:
        self.store = store

    @property
    def st(self):
        return self.store.statements

    def layout(self, app_id: int, epoch: int, first_day: int, last_day: int) -> Layout:
        layout = Layout()
        params = (app_id, epoch, first_day * MS_PER_DAY, (last_day + 1) * MS_PER_DAY)
        for bucket, level, blob, written in self.store._execute(self.st.select_parts, *params):
            if level == MARK:
                layout.marks[bucket] = written
            elif level == DAY:
                layout.days[day_of(bucket)] = PartInfo.from_row(bucket, level, blob, written)
            elif level == SLOT:
                layout.slots[bucket] = PartInfo.from_row(bucket, level, blob, written)
        return layout

    def columns(
        self, app_id: int, epoch: int, start: int, end: int, names: Sequence[str]
    ) -> Columns:
        wanted = set(names or ARRAYS) | {"ts"}
        excluded: set = set()
        first_day, last_day = day_of(start), day_of(end - 1)
        slots = range(start - start % SLOT_MS, end, SLOT_MS)
        for _ in range(ATTEMPTS):
            layout = self.layout(app_id, epoch, first_day, last_day)
            runs = runs_of(((slot, layout.source(slot, excluded)) for slot in slots), start, end)
            try:
                return self.assemble(app_id, epoch, runs, wanted)
            except StalePart as stale:
                excluded.add(stale.args[1])
        raise StoreUnavailable("event store (Cassandra): column parts kept changing during a read")

    def assemble(self, app_id: int, epoch: int, runs: list[Run], wanted: set[str]) -> Columns:
        parts = {key_of(run.source): run.source for run in runs if run.source is not None}
        fetched = self.fetch(app_id, epoch, list(parts.values()), wanted)
        raw = self.raw(app_id, epoch, [(r.start, r.end) for r in runs if r.source is None])
        pieces = []
        for run in runs:
            source = raw if run.source is None else fetched[key_of(run.source)]
            lo, hi = np.searchsorted(source.arrays["ts"], [run.start, run.end], side="left")
            if hi > lo:
                pieces.append((source, slice(int(lo), int(hi))))
        return merge(pieces, wanted)

    def fetch(
        self, app_id: int, epoch: int, infos: list[PartInfo], wanted: set[str]
    ) -> dict[tuple, StoredColumns]:
        """The wanted columns of these parts: from the cache, else one query per day part and
        column, and one per day and column for all the slot parts of a day."""
        cache = self.store.part_cache
        stored = {key_of(info): StoredColumns(info) for info in infos}
        missing: dict[tuple, set[str]] = {}
        for key, columns in stored.items():
            for name in wanted:
                hit = cache.get((app_id, epoch, *key, name))
                if hit is None:
                    missing.setdefault(key, set()).add(name)
                else:
                    columns.arrays[name] = hit[0]
                    if hit[1] is not None:
                        columns.tables[name] = hit[1]
        calls, targets = [], []
        slot_days: dict[int, list[PartInfo]] = {}
        for info in infos:
            if key_of(info) not in missing:
                continue
            if info.level == DAY:
                for name in sorted(missing[key_of(info)]):
                    params = (app_id, epoch, info.day, name, DAY, info.bucket, info.version)
                    calls.append((self.st.select_part_chunks, params))
                    targets.append((name, [info]))
            else:
                slot_days.setdefault(info.day, []).append(info)
        for day, slot_infos in slot_days.items():
            for name in sorted(set().union(*(missing[key_of(info)] for info in slot_infos))):
                owners = [info for info in slot_infos if name in missing[key_of(info)]]
                calls.append((self.st.select_level_chunks, (app_id, epoch, day, name, SLOT)))
                targets.append((name, owners))
        results = self.store._run(calls)
        for (name, owners), rows in zip(targets, results, strict=True):
            _distribute(stored, name, owners, rows)
            for info in owners:
                columns = stored[key_of(info)]
                value = (columns.arrays[name], columns.tables.get(name))
                cache.put((app_id, epoch, *key_of(info), name), value)
        return stored

    def raw(self, app_id: int, epoch: int, spans: list[tuple[int, int]]) -> RawSource:
        """The raw rows of these time spans (each inside [start, end) of a read)."""
        queries = [
            (app_id, epoch, hour, max(a, hour * HOUR_MS), min(b, (hour + 1) * HOUR_MS))
            for a, b in spans
            for hour in range(hour_of(a), hour_of(b - 1) + 1)
        ]
        if len(queries) >= RAW_INDEX_FROM:
            params = (app_id, epoch, queries[0][2], queries[-1][2])
            present = {hour for (hour,) in self.store._execute(self.st.hours_between, *params)}
            queries = [query for query in queries if query[2] in present]
        rows = paged_rows(
            self.store._live_session(),
            self.st.scan_hour,
            queries,
            in_flight=8,
            page_timeout=self.store.request_timeout + 5,
        )
        return RawSource(Columns.from_rows(map(scan_row, rows)))


def _distribute(stored: dict, name: str, owners: list[PartInfo], rows) -> None:
    """Chunks of one column, for the parts that own them (other versions are ignored)."""
    by_key: dict[tuple, list] = {key_of(info): [] for info in owners}
    if len(owners) == 1 and owners[0].level == DAY:
        by_key[key_of(owners[0])] = list(rows)
    else:
        for bucket, version, chunk, data in rows:
            found = by_key.get((SLOT, bucket, version))
            if found is not None:
                found.append((chunk, data))
    for key, chunks in by_key.items():
        try:
            stored[key].add(name, chunks)
        except StalePart as stale:
            raise StalePart(stale.args[0], key) from None


class PartCache:
    """Decoded columns of stored parts by (app, epoch, level, bucket, version, column), the
    least recently used dropped first beyond `max_bytes`. A part's content never changes under
    its version (a hash of it), so an entry is never stale: a process answering insights again
    and again over the same days reads only the parts' descriptions and the raw rest."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry and entry[:2]

    def put(self, key: tuple, value: tuple) -> None:
        array, table = value
        size = array.nbytes + (sum(map(len, table)) + 60 * len(table) if table else 0)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (array, table, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self.size -= dropped


class RawSource:
    """Raw rows by columns (`Columns` built from a scan), as a merge source."""

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self.arrays = columns.codes
        self.tables = columns.tables


class _Unread(dict):
    def __missing__(self, name: str):
        raise LookupError(f"column {name!r} was not read with the others")


def merge(pieces: list[tuple[object, slice]], wanted: set[str]) -> Columns:
    """The pieces' rows (each a source and a slice of its rows, in time order) as one
    `Columns`. String codes are merged: each distinct string gets one code (in order of first
    appearance); string columns not wanted get an empty table."""
    arrays: dict[str, np.ndarray] = _Unread()
    tables: dict[str, list[str]] = {name: [] for name in STRINGS}
    sources = list({id(source): source for source, _ in pieces}.values())
    for name in wanted:
        if name in STRINGS:
            table, remaps = _merged_table([source.tables[name] for source in sources])
            remap = {id(source): r for source, r in zip(sources, remaps, strict=True)}
            tables[name] = table
            values = [remap[id(source)][source.arrays[name][rows]] for source, rows in pieces]
        else:
            values = [source.arrays[name][rows] for source, rows in pieces]
        arrays[name] = np.concatenate(values) if values else _empty(name)
    length = len(arrays["ts"])
    return Columns(arrays, tables, length)


def _empty(name: str) -> np.ndarray:
    return Columns.empty().codes[name]


def _merged_table(tables: Sequence[Sequence[str]]) -> tuple[list[str], list[np.ndarray]]:
    """One table for several sources' tables, and per source the map of its codes to it."""
    index: dict[str, int] = {}
    remaps = []
    for table in tables:
        remaps.append(np.fromiter((index.setdefault(v, len(index)) for v in table), np.int32))
    return list(index), remaps
