"""Bulk imports by columns (`SQLiteEventStore.import_columns`): a batch of one partition's events
given by columns (`columns.EventBatch`) goes into the raw rows, the column parts (one per UTC
day, with their rollups) and the per-visitor tables without a Python object per event.

Everything that needs no database is prepared before the write lock (`prepare`): the rows in
time order, the per-visitor rows once per visitor (sorted by key, so the upserts walk each
table's B-tree once, in order), and each day's columns. Under the lock, `write` checks that none
of the batch's events is stored yet (the caller then imports it event by event instead), assigns
the dictionary codes of the batch's visitors and sessions at once and stores it all.

What is stored is what `import_events` stores for the same events: the same rows, counts, stage
entries (the earliest ts per stage and visitor), last seen (the latest ts per visitor; of the
same ts, the later in the batch) and parts of the same events.
"""

from __future__ import annotations

import itertools
import sqlite3
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
)
from ..values import MS_PER_DAY, day_name
from .codes import assign_codes
from .parts import compact, store_part
from .schema import COLUMNS, COUNT_PARTITION, INSERT_EVENT, SELECT_KEYS, UPSERT_LAST, UPSERT_STAGE

PART_FIELDS = (*STRINGS, "event_id", "ts", "duration_ms", "stages")  # what `build_columns` reads


@dataclass
class Prepared:
    """A batch ready to be written: one partition, events in time order."""

    app_id: int
    epoch: int
    n: int
    rows: list[list]  # the raw rows' columns, in COLUMNS order
    days: list[tuple[int, int, int]]  # (UTC day number, first row, row after the last)
    last: list[tuple]  # UPSERT_LAST rows, by visitor
    stages: list[tuple]  # UPSERT_STAGE rows, by (stage, visitor)
    parts: list[tuple[int, dict]]  # (day number, PART_FIELDS' values in (ts, event_id) order)


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
        "day": [name for day, start, end in days for name in [day_name(day)] * (end - start)],
        "props": _json_texts(columns["props"]),
        "utm": _json_texts(columns["utm"]),
        "stages": list(map(_StageTexts().__getitem__, columns["stages"])),
    }
    rows = [derived[name] if name in derived else columns[name] for name in COLUMNS]
    return Prepared(
        app_id=app_id,
        epoch=epoch,
        n=n,
        rows=rows,
        days=days,
        last=_last_seen(app_id, epoch, columns),
        stages=_stage_entries(app_id, epoch, columns),
        parts=[(day, _part_values(columns, ts, start, end)) for day, start, end in days],
    )


def stored_ids(conn: sqlite3.Connection, prepared: Prepared) -> set[str]:
    """The batch's event ids that are stored already (one range read per day)."""
    ts, ids = prepared.rows[COLUMNS.index("ts")], prepared.rows[COLUMNS.index("event_id")]
    found: set[str] = set()
    for day, start, end in prepared.days:
        params = (prepared.app_id, prepared.epoch, day_name(day), ts[start], ts[end - 1])
        found.update(event_id for (event_id,) in conn.execute(SELECT_KEYS, params))
    return found & set(ids) if found else found


def write(
    conn: sqlite3.Connection, prepared: Prepared, known: dict, learned: dict[str, dict]
) -> None:
    """Store a prepared batch none of whose events is stored (call it under the write lock).
    `known`: dictionary codes known to be committed, by kind; those looked up or assigned go
    into `learned`."""
    app_id, epoch = prepared.app_id, prepared.epoch
    conn.executemany(INSERT_EVENT, zip(*prepared.rows, strict=True))
    conn.executemany(UPSERT_STAGE, prepared.stages)
    conn.executemany(UPSERT_LAST, prepared.last)
    conn.execute(COUNT_PARTITION, (app_id, epoch, prepared.n))
    dictionary = {}
    for kind in GLOBAL:
        cached = known.get(kind, {})
        values = set(prepared.rows[COLUMNS.index(kind)])
        codes = {value: cached[value] for value in values if value in cached}
        if len(codes) < len(values):
            found = assign_codes(conn, app_id, epoch, kind, values - codes.keys())
            codes.update(found)
            learned[kind].update(found)
        dictionary[kind] = codes
    for day, values in prepared.parts:
        columns: Columns = build_columns(values, dictionary)
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
    for i in [i for i, reached in enumerate(stages) if reached]:
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
