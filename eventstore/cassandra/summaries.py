"""Rollups on Cassandra (`rollups.Rollups`: what unfiltered insights read) and the distinct funnel's
stage entry counts, from the day parts.

A range's rollups are merged from pieces: one per UTC day wholly inside the range whose day part
holds every slot (`Layout.source`: no newer late marker, no slot read raw), and one per other
span (the range's edge days, days not sealed or not built yet, slots with late events), each
summarized from its columns (sealed parts and raw rows, `reading.py`). A day part never changes
under its version, so its rollup (every table, `rollups.summarize`) is stored beside it
(`parts.rollup_rows`: by the day's builder, or by the first reader that computes it from the
part's columns) and kept in each process once read (`SummaryCache`, least recently used dropped
first): a request then reads the parts' descriptions, merges the days' small tables and
summarizes only its edges. Exact: a day's rollup is a pure function of its part's events, and
pieces are disjoint sets of the range's events.

Stage entry counts (a visitor's first entry into a stage, over the whole epoch, inside the range)
come from the `hits` table of the rollups: the visitors with a hit of the stage in the range
(the range's rollups, the pieces the other reports read) that have none between the epoch's
first day and the range's start (the stage entries table holds the same: the minimum ts of the
visitor's events with the stage).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from ..columns import (
    ARRAYS,
    GLOBAL,
    MAX_STAGE,
    STRINGS,
    Columns,
    Dictionary,
    Part,
    strings_of,
)
from ..rollups import NAMES, TABLES, Rollups, raw_columns, summarize
from ..values import MS_PER_DAY, StoreUnavailable
from .buckets import HOUR_MS, day_slots
from .connection import DRIVER_ERRORS
from .parts import ROLLUP, PartInfo, StalePart, rollup_arrays, string_table
from .reading import ATTEMPTS, key_of, merge
from .sealing import column_key

logger = logging.getLogger(__name__)

I32 = np.int32
CHUNK_READS = 8  # reads of rollup chunks in flight (each up to codec.CHUNK_BYTES: a node sends
# a few large responses at a time faster than many at once)
DAY_SETS = 4  # sets of whole days whose merged codes are kept (ranges asked for again and again)
HITS = ("hits.visitor", "hits.stages")
CODED = tuple(  # the rollup columns that hold visitor or session codes
    f"{table}.{column}" for table, columns in TABLES.items()
    for column, kind in columns.items() if kind in GLOBAL
)  # fmt: skip


class SummaryCache:
    """Rollups of day parts by (app, epoch, level, bucket, version), the least recently used
    dropped first beyond `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[tuple, tuple[Part, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Part | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple, part: Part) -> None:
        size = sum(array.nbytes for array in part.data.values())
        size += sum(sum(map(len, table)) + 60 * len(table) for table in part.tables.values())
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (part, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.size -= dropped


class Summaries:
    """`rollups` and `stage_entry_counts` of one store."""

    def __init__(self, store, max_bytes: int) -> None:
        self.store = store
        self.cache = SummaryCache(max_bytes)
        self._days: OrderedDict[tuple, Days] = OrderedDict()
        self._lock = threading.Lock()

    def rollups(self, app_id: int, epoch: int, start: int, end: int, names) -> Rollups:
        return self.read(app_id, epoch, start, end, names)[0]

    def read(self, app_id: int, epoch: int, start: int, end: int, names) -> tuple[Rollups, dict]:
        """The range's rollups, and the codes of its visitor ids (id -> code)."""
        names = list(names)
        reader, excluded = self.store.reader, set()
        first_whole = -(-start // MS_PER_DAY)
        end_whole = end // MS_PER_DAY  # days [first_whole, end_whole) lie inside the range
        for _ in range(ATTEMPTS):
            layout = reader.layout(app_id, epoch, start // MS_PER_DAY, (end - 1) // MS_PER_DAY)
            whole = {}
            for day in range(first_whole, end_whole):
                info = layout.days.get(day)
                if info is not None and all(
                    layout.source(slot, excluded) is info for slot in day_slots(day)
                ):
                    whole[day] = info
            try:
                days = self.days(app_id, epoch, list(whole.values()))
            except StalePart as stale:
                excluded.add(stale.args[1])
                continue
            wanted = raw_columns(names)
            pieces, added = list(days.pieces), {}
            for a, b in spans_between(start, end, sorted(whole)):
                columns = reader.columns(app_id, epoch, a, b, wanted)
                pieces.append(summarize(days.coded(columns, added)))
            rollups = Rollups(pieces, days.dictionaries).read(names)
            return rollups, _VisitorCodes(rollups, days, added.get("visitor_id", {}))
        raise StoreUnavailable("event store (Cassandra): column parts kept changing during a read")

    def days(self, app_id: int, epoch: int, infos: list[PartInfo]) -> Days:
        """The rollups of these day parts, visitors and sessions coded alike (kept: the last
        few sets asked for)."""
        key = (app_id, epoch, *(key_of(info) for info in infos))
        with self._lock:
            found = self._days.get(key)
        if found is None:
            found = Days(self.day_rollups(app_id, epoch, infos))
            with self._lock:
                self._days[key] = found
                while len(self._days) > DAY_SETS:
                    self._days.popitem(last=False)
        return found

    def day_rollups(self, app_id: int, epoch: int, infos: list[PartInfo]) -> list[Part]:
        """The rollups of these day parts, every table: kept in this process, else stored beside
        the part (all read at once), else computed from the part's columns and stored."""
        keys = [(app_id, epoch, *key_of(info)) for info in infos]
        found = {key: self.cache.get(key) for key in keys}
        unknown = [info for info, key in zip(infos, keys, strict=True) if found[key] is None]
        found.update(self.stored_rollups(app_id, epoch, unknown))
        for info, key in zip(infos, keys, strict=True):
            if found[key] is None:
                found[key] = self.computed_rollup(app_id, epoch, info)
                self.store_rollup(app_id, epoch, info, found[key])
            self.cache.put(key, found[key])
        return [found[key] for key in keys]

    def stored_rollups(self, app_id: int, epoch: int, infos: list[PartInfo]) -> dict:
        """(app, epoch, level, bucket, version) -> the stored rollup of each of these day parts
        that has all of it stored, with the part's string tables (read in one round)."""
        st, calls = self.store.statements, []
        for info in infos:
            calls.append((st.select_part_chunks, column_key(app_id, epoch, info, ROLLUP)))
            calls += [
                (st.select_table_chunks, column_key(app_id, epoch, info, name)) for name in STRINGS
            ]
        results, found = iter(self.store._run(calls, limit=CHUNK_READS)), {}
        for info in infos:
            arrays = rollup_arrays(next(results))
            tables = {
                name: string_table(info, name, (data for _, data in next(results)))
                for name in STRINGS
            }
            if arrays is not None:
                found[(app_id, epoch, *key_of(info))] = Part(
                    info.n, info.first_ts, tables, {}, arrays
                )
        return found

    def computed_rollup(self, app_id: int, epoch: int, info: PartInfo) -> Part:
        """The rollup of a day part, summarized from its columns."""
        stored = self.store.reader.fetch(app_id, epoch, [info], set(ARRAYS))[key_of(info)]
        summary = summarize(merge([(stored, slice(0, info.n))], set(ARRAYS)))
        data = {name: np.ascontiguousarray(summary.data[name]) for name in NAMES}
        return Part(summary.n, summary.first_ts, summary.tables, {}, data)

    def store_rollup(self, app_id: int, epoch: int, info: PartInfo, rollup: Part) -> None:
        """A computed rollup written beside its part, for the next processes (a failed write
        only leaves it to them to compute)."""
        try:
            self.store.builder.write_rollup(app_id, epoch, info, rollup.data)
        except DRIVER_ERRORS:
            logger.warning("rollup of day part %s/%s not stored", info.bucket, info.version)

    def stage_entry_counts(
        self, app_id: int, epoch: int, stages: Iterable[int], start: int, end: int
    ) -> dict[int, int] | None:
        """Per stage, the visitors whose first entry is in [start, end): those with a hit in
        the range (its rollups: the pieces other reports read) and none before it (the hits
        of the epoch's first day to the range's start, joined by visitor id); None when a
        stage is beyond what `hits.stages` (a bit mask) holds."""
        stages = list(stages)
        if any(not 0 <= stage <= MAX_STAGE for stage in stages):
            return None
        hours = self.store._partition_hours(app_id, epoch)
        if not hours or end <= start:
            return dict.fromkeys(stages, 0)
        since = min(hours) * HOUR_MS // MS_PER_DAY * MS_PER_DAY  # the epoch's first day, whole
        before = {stage: [] for stage in stages}
        if since < start:
            earlier = self.rollups(app_id, epoch, since, min(start, end), HITS)
            for stage, codes in _entered(earlier, stages).items():
                before[stage] = strings_of(earlier.tables["visitor_id"], codes.tolist())
        if max(start, since) >= end:
            return dict.fromkeys(stages, 0)
        inside, code_of = self.read(app_id, epoch, max(start, since), end, HITS)
        counts = {}
        for stage, codes in _entered(inside, stages).items():
            earlier_codes = [code_of.get(visitor) for visitor in before[stage]]
            known = np.array([code for code in earlier_codes if code is not None], dtype=I32)
            present = np.zeros(int(codes[-1]) + 1 if len(codes) else 0, dtype=bool)
            present[codes] = True
            known = known[known < len(present)]
            counts[stage] = len(codes) - int(np.count_nonzero(present[known]))
        return counts


class _VisitorCodes:
    """visitor id -> its code in a read's rollups (None: not in them)."""

    def __init__(self, rollups: Rollups, days: Days, added: dict[str, int]) -> None:
        self.rollups, self.days, self.added = rollups, days, added
        self._index: dict[str, int] | None = None

    def get(self, visitor: str) -> int | None:
        if self.days.pieces:
            code = self.days.index_of("visitor_id").get(visitor)
            return self.added.get(visitor) if code is None else code
        if self._index is None:
            table = self.rollups.tables["visitor_id"]
            self._index = dict(zip(table, range(len(table)), strict=True))
        return self._index.get(visitor)


def _entered(rollups: Rollups, stages: list[int]) -> dict[int, np.ndarray]:
    """Per stage, the codes of the visitors with a hit of it (distinct, ascending: a bitmap
    over the codes, which are dense)."""
    visitors, masks = rollups["hits.visitor"], rollups["hits.stages"]
    size = int(visitors.max()) + 1 if len(visitors) else 0
    entered = {}
    for stage in stages:
        present = np.zeros(size, dtype=bool)
        present[visitors[((masks >> np.int64(stage)) & 1).astype(bool)]] = True
        entered[stage] = np.flatnonzero(present)
    return entered


class Days:
    """The rollups of some whole days, as pieces whose visitor and session codes index one
    table per column (merged once, here, instead of on every request: the columns with the
    most distinct values); the range's other pieces are coded into the same tables (`coded`),
    strings the days do not hold as codes of their own beyond them."""

    def __init__(self, rollups: list[Part]) -> None:
        self.tables: dict[str, list[str]] = {}
        self.remaps: dict[str, list[np.ndarray]] = {}
        self._index: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()
        for name in GLOBAL:
            index: dict[str, int] = {}
            self.remaps[name] = [
                np.array([index.setdefault(v, len(index)) for v in part.tables[name]] + [-1], I32)
                for part in rollups
            ]  # the last entry maps -1 ("none") to itself
            self.tables[name] = list(index)
        self.pieces = [self._recoded(part, i) for i, part in enumerate(rollups)]
        self.dictionaries = {name: self._loaders(name) for name in GLOBAL} if rollups else {}

    def _recoded(self, part: Part, index: int) -> Part:
        data = dict(part.data)
        for name in CODED:
            strings = TABLES[name.split(".")[0]][name.split(".")[1]]
            data[name] = self.remaps[strings][index][data[name]]
        tables = {**part.tables, **dict.fromkeys(GLOBAL)}
        top = {name: len(self.tables[name]) - 1 for name in GLOBAL}
        return Part(part.n, part.first_ts, tables, top, data)

    def _loaders(self, name: str) -> tuple:
        table = self.tables[name]
        return (lambda: table), (lambda codes: {code: table[code] for code in codes})

    def coded(self, columns: Columns, added: dict[str, dict[str, int]]) -> Columns:
        """Columns (of the range's other events) with visitors and sessions coded like the
        days' pieces; `added`: per column, the codes given beyond the days' tables so far, for
        the pieces of one read (shared by them, filled here)."""
        if not self.pieces:
            return columns
        codes, tables = dict(columns.codes), dict(columns.tables)
        for name in GLOBAL:
            size, new = len(self.tables[name]), added.setdefault(name, {})
            if name in codes:
                index = self.index_of(name)
                remap = np.empty(len(columns.tables[name]), dtype=I32)
                for i, value in enumerate(columns.tables[name]):
                    code = index.get(value)
                    remap[i] = code if code is not None else new.setdefault(value, size + len(new))
                codes[name] = remap[columns.codes[name]]
            extra = {code: value for value, code in new.items()}
            tables[name] = Dictionary(size + len(new), extra=extra)
        return Columns(codes, tables, len(columns))

    def index_of(self, name: str) -> dict[str, int]:
        with self._lock:
            if name not in self._index:
                table = self.tables[name]
                self._index[name] = dict(zip(table, range(len(table)), strict=True))
            return self._index[name]


def spans_between(start: int, end: int, days: list[int]) -> list[tuple[int, int]]:
    """[start, end) without the given whole days (ascending): the spans left."""
    spans, at = [], start
    for day in days:
        if day * MS_PER_DAY > at:
            spans.append((at, day * MS_PER_DAY))
        at = (day + 1) * MS_PER_DAY
    if end > at:
        spans.append((at, end))
    return spans
