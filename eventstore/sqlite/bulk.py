"""Bulk imports by columns (`SQLiteEventStore.import_columns`): a batch of one partition's events
given by columns (`columns.EventBatch`) goes into the raw rows, the column parts (one per UTC
day, with their rollups) and the per-visitor tables without a Python object per event.

Everything that needs no database is prepared before the write lock (`prepare`), so that
importers in several processes hold the lock as briefly as they can: the rows in time order, the
per-visitor rows once per visitor (sorted by key, so the upserts walk each table's B-tree once,
in order), and each day's columns, its visitors and sessions coded by the batch's own codes.
`staged` then inserts the raw rows into a table of the connection's own temporary database,
still before the lock: binding a row's 25 parameters and building its record were most of the
time the lock was held (the temporary database takes no lock on the store's file). Under the
lock, `write` checks that none of the batch's events is stored yet (the caller then imports it
event by event instead), copies the staged rows into `events` in one statement (within SQLite:
no parameter bound), assigns the dictionary codes of the batch's visitors and sessions at once,
maps the batch's codes to them (one array lookup per column), stores it all; the staging table
is emptied after the lock.

What is stored is what `import_events` stores for the same events: the same rows, counts, stage
entries (the earliest ts per stage and visitor), last seen (the latest ts per visitor; of the
same ts, the later in the batch) and parts of the same events.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import orjson

from ..columns import (
    GLOBAL,
    STRINGS,
    Columns,
    EventBatch,
    build_columns,
    encode_columns,
    id_keys,
    recoded,
)
from ..values import MS_PER_DAY, day_name
from .codes import assign_codes
from .parts import compact, store_part
from .schema import COLUMNS, COUNT_PARTITION, INSERT_EVENT, SELECT_KEYS, UPSERT_LAST, UPSERT_STAGE

PART_FIELDS = (*STRINGS, "event_id", "ts", "duration_ms", "stages")  # what `build_columns` reads

# The staging table: `events`' columns, in the connection's temporary database, whose page cache
# holds a batch of generated traffic (100,000 rows: ~30 MB) without spilling it to its file, and
# whose journal stays in memory. No key: the rows go in in time order, the copy takes them in
# that order (a key made staging ~1 us per row dearer, the copy ~0.4 us cheaper).
STAGED_CACHE_KB = 64 * 1024
CREATE_STAGED = f"CREATE TABLE IF NOT EXISTS temp.staged_events ({', '.join(COLUMNS)})"
INSERT_STAGED = INSERT_EVENT.replace(
    "INSERT OR IGNORE INTO events", "INSERT INTO temp.staged_events"
)
COPY_STAGED = (
    f"INSERT OR IGNORE INTO main.events ({', '.join(COLUMNS)}) "
    f"SELECT {', '.join(COLUMNS)} FROM temp.staged_events ORDER BY rowid"
)


@dataclass
class Prepared:
    """A batch ready to be written: one partition, events in time order."""

    app_id: int
    epoch: int
    n: int
    rows: list[tuple]  # the raw rows (COLUMNS), in time order
    days: list[tuple[int, str, int, int]]  # (UTC day number, its name, first ts, last ts)
    ids: Sequence[str]  # the events' ids
    last: list[tuple]  # UPSERT_LAST rows, by visitor
    stages: list[tuple]  # UPSERT_STAGE rows, by (stage, visitor)
    values: dict[str, list[str]]  # per GLOBAL column, its distinct values: the batch's codes
    parts: list[tuple[int, Columns]]  # (day number, its events, GLOBAL columns in batch codes)
    staged: bool = False  # the rows are in the connection's staging table (`staged`)


def prepare(batch: EventBatch) -> Prepared | None:
    """The batch, ready to be written; None when it is not for this path (several partitions,
    or an event id twice: the caller imports those event by event)."""
    columns = batch.columns
    n = len(batch)
    partitions = set(zip(columns["app_id"], columns["epoch"], strict=True))
    if len(partitions) != 1 or len(set(columns["event_id"])) != n:
        return None
    ((app_id, epoch),) = partitions
    ts = np.asarray(columns["ts"], dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    if np.any(order[1:] < order[:-1]):  # not in time order yet: every column in it
        pick = itemgetter(*order.tolist())  # n > 1 here
        columns = {name: pick(values) for name, values in columns.items()}
        ts = ts[order]
    day_numbers = ts // MS_PER_DAY
    first_day, last_day = int(day_numbers[0]), int(day_numbers[-1])
    bounds = np.searchsorted(day_numbers, np.arange(first_day, last_day + 2)).tolist()
    days = [
        (first_day + i, start, end)
        for i, (start, end) in enumerate(itertools.pairwise(bounds))
        if end > start
    ]
    derived = {
        "day": list(
            itertools.chain.from_iterable(
                itertools.repeat(day_name(day), end - start) for day, start, end in days
            )
        ),
        "props": _json_texts(columns["props"]),
        "utm": _json_texts(columns["utm"]),
        "stages": list(map(_StageTexts().__getitem__, columns["stages"])),
    }
    rows = [derived[name] if name in derived else columns[name] for name in COLUMNS]
    values = {kind: sorted(set(columns[kind])) for kind in GLOBAL}
    local = {
        kind: dict(zip(kinds, range(len(kinds)), strict=True)) for kind, kinds in values.items()
    }
    return Prepared(
        app_id=app_id,
        epoch=epoch,
        n=n,
        rows=list(zip(*rows, strict=True)),
        days=[(day, day_name(day), int(ts[start]), int(ts[end - 1])) for day, start, end in days],
        ids=columns["event_id"],
        last=_last_seen(app_id, epoch, columns),
        stages=_stage_entries(app_id, epoch, columns),
        values=values,
        parts=[
            (day, build_columns(_part_values(columns, ts, start, end), local))
            for day, start, end in days
        ],
    )


def stored_ids(conn: sqlite3.Connection, prepared: Prepared) -> set[str]:
    """The batch's event ids that are stored already (one range read per day)."""
    found: set[str] = set()
    for _, name, low, high in prepared.days:
        params = (prepared.app_id, prepared.epoch, name, low, high)
        found.update(event_id for (event_id,) in conn.execute(SELECT_KEYS, params))
    return found & set(prepared.ids) if found else found


@contextlib.contextmanager
def staged(conn: sqlite3.Connection, prepared: Prepared) -> Iterator[None]:
    """The batch's raw rows in the connection's staging table for the block (`write` copies
    them from there): inserted before the write lock, in a transaction of the temporary
    database only (none on the store's file); emptied after the block."""
    conn.execute(CREATE_STAGED)
    conn.execute(f"PRAGMA temp.cache_size = -{STAGED_CACHE_KB}")
    conn.execute("PRAGMA temp.journal_mode = MEMORY")
    conn.execute("BEGIN")
    try:
        conn.executemany(INSERT_STAGED, prepared.rows)
        conn.execute("COMMIT")
        prepared.staged = True
        yield
    finally:
        prepared.staged = False
        if conn.in_transaction:
            conn.rollback()
        conn.execute("DELETE FROM temp.staged_events")


def write(
    conn: sqlite3.Connection, prepared: Prepared, known: dict, learned: dict[str, dict]
) -> None:
    """Store a prepared batch none of whose events is stored (call it under the write lock,
    best within `staged`). `known`: dictionary codes known to be committed, by kind; those
    looked up or assigned go into `learned`."""
    app_id, epoch = prepared.app_id, prepared.epoch
    if prepared.staged:
        conn.execute(COPY_STAGED)
    else:
        conn.executemany(INSERT_EVENT, prepared.rows)
    conn.executemany(UPSERT_STAGE, prepared.stages)
    conn.executemany(UPSERT_LAST, prepared.last)
    conn.execute(COUNT_PARTITION, (app_id, epoch, prepared.n))
    remaps = {}
    for kind, values in prepared.values.items():
        cached = known.get(kind, {})
        codes = {value: cached[value] for value in values if value in cached}
        if len(codes) < len(values):
            found = assign_codes(conn, app_id, epoch, kind, set(values) - codes.keys())
            codes.update(found)
            learned[kind].update(found)
        remaps[kind] = np.array(list(map(codes.__getitem__, values)), dtype=np.int64)
    for day, batch_coded in prepared.parts:
        columns = recoded(batch_coded, remaps)
        store_part(conn, app_id, epoch, day, 0, encode_columns(columns), columns)
        compact(conn, app_id, epoch, day)


def _json_texts(values) -> list[str | None]:
    """`props` or `utm` as the raw row keeps them (JSON text), each distinct object dumped once
    (generated events share theirs)."""
    texts: dict[int, str] = {}
    out = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        text = texts.get(id(value))
        if text is None:
            text = texts[id(value)] = orjson.dumps(value).decode()
        out.append(text)
    return out


class _StageTexts(dict):
    """stages tuple -> the raw row's text ("0,2")."""

    def __missing__(self, stages: tuple[int, ...]) -> str:
        text = self[stages] = ",".join(map(str, stages))
        return text


def _last_seen(app_id: int, epoch: int, columns: dict) -> list[tuple]:
    """Each visitor's latest (session, ts): in time order, the last of the visitor's events."""
    pairs = zip(columns["session_id"], columns["ts"], strict=True)
    latest = dict(zip(columns["visitor_id"], pairs, strict=True))
    return [(app_id, epoch, visitor, *latest[visitor]) for visitor in sorted(latest)]


def _stage_entries(app_id: int, epoch: int, columns: dict) -> list[tuple]:
    """Per (stage, visitor), the earliest ts: in time order, the first."""
    first: dict[tuple[int, str], int] = {}
    stages, visitors, ts = columns["stages"], columns["visitor_id"], columns["ts"]
    for i in itertools.compress(range(len(stages)), stages):
        for stage in stages[i]:
            first.setdefault((stage, visitors[i]), ts[i])
    return [(app_id, epoch, *key, first[key]) for key in sorted(first)]


def _part_values(columns: dict, ts: np.ndarray, start: int, end: int) -> dict:
    """PART_FIELDS' values of rows [start, end), in (ts, event_id) order: events of the same
    millisecond are put in id order when they are not."""
    values = {name: columns[name][start:end] for name in PART_FIELDS}
    hi, lo = id_keys(list(values["event_id"]))
    day_ts = ts[start:end]
    tied = day_ts[1:] == day_ts[:-1]
    later = (hi[1:] < hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] < lo[:-1]))
    if np.any(tied & later):
        order = np.lexsort((lo, hi, day_ts)).tolist()
        pick = itemgetter(*order)
        values = {name: pick(column) for name, column in values.items()}
        hi, lo = hi[order], lo[order]
    return {**values, "id_hi": hi, "id_lo": lo}
