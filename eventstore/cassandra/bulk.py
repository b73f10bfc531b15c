"""Bulk imports by columns (`CassandraEventStore.import_columns`): a batch of one partition's
events given by columns (`columns.EventBatch`) goes into the raw rows, the derived rows and
(once it is safe) the slot column parts, without a Python object per event and without the
append path's read round per 500 events.

1. One range read per hour the batch touches (`keys_between`): an event of the batch stored
   already, several partitions or an id twice send the whole batch to `import_events` (the
   append path, which repairs half-done appends); slots holding other events are noted.
2. Index rows (hours, stage weeks) and the build queue items of slots not sealed yet.
3. Raw rows (one unlogged batch per RAW_BATCH rows of one hour partition), a stage entry row
   per (stage, week, visitor) with the batch's earliest ts there (readers take the minimum over
   rows, so a row that lowers nothing changes no answer), a visit row per visitor (the latest
   (ts, session)). All of them `append`'s rows for the same events.
4. Late markers and build queue items of the slots already sealed, as `append` writes them,
   after the raw rows.
5. The slot parts of sealed slots that held no other event, built from the batch's columns, are
   kept in memory (`Pending`) and written once the builder's rule allows it (`write_ready`, at the
   next import or `flush_pending`): a builder may trust what it read raw only up to its clock
   minus the allowed skew, so a part may cover the batch's own markers only `skew_ms` after they
   were written. Then the slot's stored events are counted again: the same number as the part
   holds (all of the batch's, nothing else) and the part is written, exactly what a builder would
   build from the raw rows at that time; any other number and it is dropped (a builder builds
   the slot from its raw rows, as for a pending part lost with its process).
Answers are exact at every step: until its part is written, a slot is read raw.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import numpy as np
import orjson
from cassandra.query import UNSET_VALUE, BatchStatement, BatchType

from ..base import ImportCounts
from ..columns import STRINGS, EventBatch, Part, build_columns, id_keys
from .buckets import HOUR_MS, MARK, SLOT, SLOT_MS, hour_of, late, sealed, week_of
from .connection import by_partition
from .parts import info_of
from .sealing import part_of, queue_key, queued_by_append
from .statements import COLUMNS, JSON_COLUMNS

RAW_BATCH = 20  # raw rows per unlogged batch (~3 KB: under batch_size_warn_threshold, 5 KiB)
IN_FLIGHT = 32  # batches in flight
PART_FIELDS = (*STRINGS, "event_id", "ts", "duration_ms", "stages")  # what `build_columns` reads


@dataclass
class Pending:
    """A slot part built from an import, to write once `coverage` may reach `marked_us`."""

    app_id: int
    epoch: int
    slot: int
    part: Part
    marked_us: int


class PendingParts:
    """The slot parts of this process's imports not written yet."""

    def __init__(self) -> None:
        self._items: list[Pending] = []
        self._lock = threading.Lock()

    def add(self, items: list[Pending]) -> None:
        with self._lock:
            self._items.extend(items)

    def take_ready(self, coverage_us: int) -> list[Pending]:
        with self._lock:
            ready = [item for item in self._items if item.marked_us <= coverage_us]
            self._items = [item for item in self._items if item.marked_us > coverage_us]
        return ready


def import_columns(store, batch: EventBatch) -> ImportCounts:
    """Store a batch as `import_events` would (see the module docstring)."""
    write_ready(store)
    columns = _single_partition(batch)
    if columns is None:
        return _by_appends(store, batch)
    app_id, epoch = columns["app_id"][0], columns["epoch"][0]
    ts = np.asarray(columns["ts"], dtype=np.int64)
    occupied = _stored_slots(store, app_id, epoch, ts, columns["event_id"])
    if occupied is None:
        return _by_appends(store, batch)
    now = store.now_ms()
    slots = np.unique(ts - ts % SLOT_MS).tolist()
    on_time = [(app_id, epoch, s) for s in slots if not late(s, now, store.skew_ms)]
    queued = [
        (store.statements.enqueue, (*queue_key(*bucket), now * 1000))
        for bucket in queued_by_append(on_time, now)
    ]
    stage_rows = _stage_entries(app_id, epoch, columns)
    st = store.statements
    index = [(st.index_hour, (app_id, epoch, hour)) for hour in np.unique(ts // HOUR_MS).tolist()]
    index += [(st.index_stage_week, key) for key in {row[:4] for row in stage_rows}]
    store._run(by_partition(index + queued))
    calls = _raw_batches(st.insert_event, columns, ts)
    calls += by_partition(
        [(st.insert_stage_entry, row) for row in stage_rows]
        + [(st.insert_visit, row) for row in _visits(app_id, epoch, columns)]
    )
    store._run(calls, limit=IN_FLIGHT)
    marked = _mark_late(store, app_id, epoch, slots)
    store.builder.wake()
    store.pending_parts.add(_slot_parts(store, columns, ts, marked, occupied))
    return ImportCounts(len(batch), 0)


def write_ready(store) -> int:
    """Write the pending slot parts whose markers the builder's coverage reaches now, each if
    its slot still holds exactly its events; how many events they hold."""
    now = store.now_ms()
    cover = store.builder.coverage(now)
    ready = [p for p in store.pending_parts.take_ready(cover) if sealed(p.slot + SLOT_MS, now)]
    if not ready:
        return 0
    counts = store._run(
        (
            store.statements.count_between,
            (p.app_id, p.epoch, hour_of(p.slot), p.slot, p.slot + SLOT_MS),
        )
        for p in ready
    )
    done = 0
    for item, rows in zip(ready, counts, strict=True):
        if rows.one()[0] != item.part.n:
            continue  # other events came meanwhile: a builder builds the slot from raw rows
        info, blobs = info_of(item.part, level=SLOT, bucket=item.slot, cover=[cover])
        store.builder.write(item.app_id, item.epoch, info, blobs, now * 1000)
        done += item.part.n
    store.builder.wake()
    return done


def _by_appends(store, batch: EventBatch) -> ImportCounts:
    result = store.import_events(batch.events())
    return ImportCounts(len(result.new_keys), len(result.duplicate_keys))


def _single_partition(batch: EventBatch) -> dict | None:
    """The batch's columns in time order, or None (empty, several partitions, an id twice)."""
    columns = batch.columns
    n = len(batch)
    if not n or len(set(zip(columns["app_id"], columns["epoch"], strict=True))) != 1:
        return None
    if len(set(columns["event_id"])) != n:
        return None
    ts = np.asarray(columns["ts"], dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    if np.any(order[1:] < order[:-1]):
        picks = order.tolist()
        columns = {name: [values[i] for i in picks] for name, values in columns.items()}
    return dict(columns)


def _stored_slots(store, app_id: int, epoch: int, ts: np.ndarray, ids) -> set[int] | None:
    """The slots of the batch's time span that hold stored events (one read per hour, from the
    batch's first to its last slot in it); None when one of the batch's events is stored."""
    first, last = int(ts[0] - ts[0] % SLOT_MS), int(ts[-1] - ts[-1] % SLOT_MS + SLOT_MS)
    hours = np.unique(ts // HOUR_MS).tolist()
    calls = [
        (
            store.statements.keys_between,
            (app_id, epoch, hour, max(first, hour * HOUR_MS), min(last, (hour + 1) * HOUR_MS)),
        )
        for hour in hours
    ]
    wanted = set(zip(ts.tolist(), ids, strict=True))
    occupied = set()
    for rows in store._run(calls):
        for stored_ts, event_id in rows:
            if (stored_ts, event_id) in wanted:
                return None
            occupied.add(stored_ts - stored_ts % SLOT_MS)
    return occupied


def _raw_batches(insert, columns: dict, ts: np.ndarray) -> list[tuple]:
    """The raw rows as unlogged batches of RAW_BATCH rows of one hour partition."""
    values = [columns[name] for name in COLUMNS]
    for index in (COLUMNS.index(name) for name in JSON_COLUMNS):
        values[index] = _json_texts(values[index])
    stages = COLUMNS.index("stages")
    values[stages] = [list(s) if s else None for s in values[stages]]
    hours = (ts // HOUR_MS).tolist()
    unset = UNSET_VALUE
    calls = []
    rows = zip(hours, *values, strict=True)
    for _, group in itertools.groupby(rows, key=lambda row: row[0]):
        group = list(group)
        for start in range(0, len(group), RAW_BATCH):
            statement = BatchStatement(batch_type=BatchType.UNLOGGED)
            for row in group[start : start + RAW_BATCH]:
                statement.add(insert.bind([unset if v is None else v for v in row]))
            calls.append((statement, None))
    return calls


def _json_texts(values) -> list[str | None]:
    """JSON text of each object (None stays None), each distinct object dumped once: generated
    events share their objects."""
    dumped: dict[int, str | None] = {id(None): None}

    def text(value) -> str | None:
        key = id(value)
        if key not in dumped:
            dumped[key] = orjson.dumps(value).decode()
        return dumped[key]

    return list(map(text, values))


def _stage_entries(app_id: int, epoch: int, columns: dict) -> list[tuple]:
    """(app_id, epoch, stage, week, visitor_id, first_ts): per stage, week and visitor, the
    earliest ts of the batch (in time order: the first)."""
    first: dict[tuple, int] = {}
    stages, visitors, ts = columns["stages"], columns["visitor_id"], columns["ts"]
    for i in itertools.compress(range(len(stages)), stages):
        week = week_of(ts[i])
        for stage in stages[i]:
            first.setdefault((stage, week, visitors[i]), ts[i])
    return [(app_id, epoch, *key, value) for key, value in first.items()]


def _visits(app_id: int, epoch: int, columns: dict) -> list[tuple]:
    """(app_id, epoch, visitor_id, last_ts, session_id): per visitor, the greatest (ts,
    session_id), as `derived.latest_visits`."""
    latest: dict[str, tuple[int, str]] = {}
    for visitor, ts, session in zip(
        columns["visitor_id"], columns["ts"], columns["session_id"], strict=True
    ):
        found = latest.get(visitor)
        if found is None or (ts, session) > found:
            latest[visitor] = (ts, session)
    return [(app_id, epoch, visitor, *found) for visitor, found in latest.items()]


def _mark_late(store, app_id: int, epoch: int, slots: list[int]) -> dict[int, int]:
    """After the raw rows: a marker and build queue items per slot sealed already, as
    `append` writes them; slot -> the marker's write time (us)."""
    now = store.now_ms()
    late_slots = [slot for slot in slots if late(slot, now, store.skew_ms)]
    if not late_slots:
        return {}
    st, written = store.statements, now * 1000
    buckets = queued_by_append([(app_id, epoch, slot) for slot in late_slots], now)
    store._run(
        by_partition(
            [(st.insert_part, (app_id, epoch, slot, MARK, b"", written)) for slot in late_slots]
            + [(st.enqueue, (*queue_key(*bucket), written)) for bucket in buckets]
        )
    )
    return dict.fromkeys(late_slots, written)


def _slot_parts(
    store, columns: dict, ts: np.ndarray, marked: dict[int, int], occupied: set[int]
) -> list[Pending]:
    """The parts of the marked slots that held no other event, from the batch's columns in
    (ts, event_id) order."""
    wanted = [slot for slot in marked if slot not in occupied]
    if not wanted:
        return []
    hi, lo = id_keys(list(columns["event_id"]))
    order = np.lexsort((lo, hi, ts))
    if np.any(order[1:] < order[:-1]):
        picks = order.tolist()
        values = {name: [columns[name][i] for i in picks] for name in PART_FIELDS}
        ts, hi, lo = ts[order], hi[order], lo[order]
    else:
        values = {name: columns[name] for name in PART_FIELDS}
    all_columns = build_columns({**values, "id_hi": hi, "id_lo": lo})
    app_id, epoch = columns["app_id"][0], columns["epoch"][0]
    pending = []
    for slot in wanted:
        start, end = np.searchsorted(ts, [slot, slot + SLOT_MS]).tolist()
        part = part_of(all_columns.take(slice(start, end)))
        pending.append(Pending(app_id, epoch, slot, part, marked[slot]))
    return pending
