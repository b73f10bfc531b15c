"""The SQLite store's tables and statements, and events to and from rows."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from operator import attrgetter

import orjson

from ..values import ScanRow, StoredEvent, StoreUnavailable

SCHEMA_VERSION = 3  # 2: segments, 3: their rollups
PAGE_SIZE = 1000  # rows per read page (events) or per delete transaction
IN_CHUNK = 500  # visitor ids per IN (...) query, far below SQLite's parameter limit
MIN_TS = -(2**63)

KEY = ("app_id", "epoch", "day", "ts", "event_id")
COLUMNS = KEY + tuple(f.name for f in fields(StoredEvent) if f.name not in KEY)
JSON_COLUMNS = tuple(COLUMNS.index(name) for name in ("props", "utm"))
STAGES = COLUMNS.index("stages")
PAGE_KEY = tuple(COLUMNS.index(name) for name in ("day", "ts", "event_id"))
read_columns = attrgetter(*COLUMNS)

COLUMN_TYPES = {"app_id": "INTEGER", "epoch": "INTEGER", "ts": "INTEGER", "duration_ms": "INTEGER"}
NULLABLE = {"props": "TEXT", "utm": "TEXT", "screen": "INTEGER"}


def column_sql(name: str) -> str:
    if name in NULLABLE:
        return f"{name} {NULLABLE[name]}"
    return f"{name} {COLUMN_TYPES.get(name, 'TEXT')} NOT NULL"


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    {", ".join(column_sql(name) for name in COLUMNS)},
    PRIMARY KEY (app_id, epoch, day, ts, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stage_entries (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, stage INTEGER NOT NULL,
    visitor_id TEXT NOT NULL, first_ts INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, stage, visitor_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS visitor_last (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL, last_ts INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, visitor_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, app_id INTEGER NOT NULL, epoch INTEGER NOT NULL,
    day_number INTEGER NOT NULL, level INTEGER NOT NULL, events INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, header BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_day ON segments (app_id, epoch, day_number, level);
CREATE TABLE IF NOT EXISTS segment_columns (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, segment_id INTEGER NOT NULL,
    name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (app_id, epoch, name, segment_id)
);
CREATE TABLE IF NOT EXISTS pending (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, day TEXT NOT NULL, ts INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (app_id, epoch, day, ts, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dictionary (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    code INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, kind, value)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS dictionary_by_code ON dictionary (app_id, epoch, kind, code);
CREATE TABLE IF NOT EXISTS partitions (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, events INTEGER NOT NULL,
    incarnation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, epoch)
) WITHOUT ROWID;
"""

INSERT_EVENT = (
    f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
INSERT_PART = """
INSERT INTO segments (app_id, epoch, day_number, level, events, first_ts, header)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
INSERT_COLUMN = """
INSERT INTO segment_columns (app_id, epoch, segment_id, name, data) VALUES (?, ?, ?, ?, ?)
"""
# Pending keys first (CROSS JOIN keeps SQLite from scanning events), each to its event's row.
SELECT_PENDING = f"""
SELECT p.app_id, p.epoch, p.day, {", ".join("e." + name for name in ScanRow._fields)}
FROM pending p CROSS JOIN events e ON e.app_id = p.app_id AND e.epoch = p.epoch
AND e.day = p.day AND e.ts = p.ts AND e.event_id = p.event_id
"""
SELECT_KEYS = """
SELECT event_id FROM events WHERE app_id = ? AND epoch = ? AND day = ? AND ts BETWEEN ? AND ?
"""
INSERT_PENDING = "INSERT INTO pending (app_id, epoch, day, ts, event_id) VALUES (?, ?, ?, ?, ?)"
DELETE_PENDING = """
DELETE FROM pending WHERE app_id = ? AND epoch = ? AND day = ? AND ts = ? AND event_id = ?
"""
UPSERT_STAGE = """
INSERT INTO stage_entries (app_id, epoch, stage, visitor_id, first_ts) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET first_ts = excluded.first_ts WHERE excluded.first_ts < first_ts
"""
UPSERT_LAST = """
INSERT INTO visitor_last (app_id, epoch, visitor_id, session_id, last_ts) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET session_id = excluded.session_id, last_ts = excluded.last_ts
WHERE excluded.last_ts >= last_ts
"""
COUNT_PARTITION = """
INSERT INTO partitions (app_id, epoch, events, incarnation) VALUES (?, ?, ?, random())
ON CONFLICT DO UPDATE SET events = events + excluded.events
"""
SELECT_EVENTS = f"""
SELECT {", ".join(COLUMNS)} FROM events WHERE app_id = ? AND epoch = ? AND {{after}}
ORDER BY day, ts, event_id LIMIT {PAGE_SIZE}
"""
# Keyset pages; the row-value ranges are what lets SQLite seek into the primary key.
PAGE_ALL_DAYS = SELECT_EVENTS.format(after="(day, ts, event_id) > (?, ?, ?)")
PAGE_ONE_DAY = SELECT_EVENTS.format(after="day = ? AND (ts, event_id) > (?, ?)")
SCAN = f"""
SELECT {", ".join(ScanRow._fields)} FROM events
WHERE app_id = ? AND epoch = ? AND day BETWEEN ? AND ? AND ts >= ? AND ts < ?
"""
# Deletes go by pages of keys, each page its own transaction (the key columns of each table).
DELETE_PAGE = {
    "events": "day, ts, event_id",
    "stage_entries": "stage, visitor_id",
    "visitor_last": "visitor_id",
    "pending": "day, ts, event_id",
    "segment_columns": "name, segment_id",
    "segments": "id",
    "dictionary": "kind, value",
}

# Errors that mean "these events are malformed" (e.g. "Error binding parameter"), not "the
# store is down". A closed store raises StoreUnavailable before reaching sqlite3.
DATA_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
)


def to_row(event: StoredEvent) -> list:
    row = list(read_columns(event))
    for index in JSON_COLUMNS:
        if row[index] is not None:
            row[index] = orjson.dumps(row[index]).decode()
    row[STAGES] = ",".join(map(str, row[STAGES]))
    return row


def from_row(row: Sequence) -> StoredEvent:
    values = dict(zip(COLUMNS, row, strict=True))
    del values["day"]
    for name in ("props", "utm"):
        if values[name] is not None:
            values[name] = orjson.loads(values[name])
    stages = values["stages"]
    values["stages"] = tuple(map(int, stages.split(","))) if stages else ()
    return StoredEvent(**values)


def scan_row(values: Sequence) -> ScanRow:
    stages = values[-1]
    return ScanRow._make((*values[:-1], tuple(map(int, stages.split(","))) if stages else ()))


def pending_key(event: StoredEvent) -> tuple:
    return (event.app_id, event.epoch, event.day, event.ts, event.event_id)


@contextlib.contextmanager
def translated_errors():
    """sqlite3 errors other than bad data become StoreUnavailable (locked, I/O, closed...)."""
    try:
        yield
    except DATA_ERRORS:
        raise
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"event store (SQLite): {exc}") from exc
