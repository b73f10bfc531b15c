"""Every statement of the store, prepared once per process. Each names one partition.

No ALLOW FILTERING, no aggregate across partitions: COUNT(*) counts one hour partition.
Writes whose time decides what a reader trusts (markers, parts, queue items, their deletes)
carry an explicit `USING TIMESTAMP` from the store's clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import orjson

from ..values import ScanRow, StoredEvent

COLUMNS = tuple(f.name for f in fields(StoredEvent))
"""The columns of a raw event, in StoredEvent's order (`hour` is derived from `ts`)."""
JSON_COLUMNS = ("props", "utm")  # stored as JSON text

PAGE_SIZE = 1000  # rows per page of events()
SCAN_PAGE_SIZE = 5000  # rows per page of the light reads (scan, stage entries, visitors)
CHUNK_PAGE_SIZE = 16  # chunks of column parts per page (each at most parts.CHUNK_BYTES)

_HOUR = "app_id = ? AND epoch = ? AND hour = ?"
_STAGE_WEEK = "app_id = ? AND epoch = ? AND stage = ? AND week = ?"
_VISITOR = "app_id = ? AND epoch = ? AND visitor_id = ?"
_COLUMN = "app_id = ? AND epoch = ? AND day = ? AND name = ? AND level = ?"
_SCAN = ", ".join(ScanRow._fields)

CQL = {
    # events_by_hour
    "insert_event": (
        f"INSERT INTO {{ks}}.events_by_hour (hour, {', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
    ),
    "find_keys": (
        f"SELECT ts, event_id, visitor_id, session_id, stages FROM {{ks}}.events_by_hour "
        f"WHERE {_HOUR} AND ts IN ?"
    ),
    "keys_between": (
        f"SELECT ts, event_id FROM {{ks}}.events_by_hour WHERE {_HOUR} AND ts >= ? AND ts < ?"
    ),
    "count_between": (
        f"SELECT COUNT(*) FROM {{ks}}.events_by_hour WHERE {_HOUR} AND ts >= ? AND ts < ?"
    ),
    "select_hour": f"SELECT {', '.join(COLUMNS)} FROM {{ks}}.events_by_hour WHERE {_HOUR}",
    "scan_hour": f"SELECT {_SCAN} FROM {{ks}}.events_by_hour WHERE {_HOUR} AND ts >= ? AND ts < ?",
    "count_hour": f"SELECT COUNT(*) FROM {{ks}}.events_by_hour WHERE {_HOUR}",
    "visitors_of_hour": f"SELECT visitor_id FROM {{ks}}.events_by_hour WHERE {_HOUR}",
    "delete_hour": f"DELETE FROM {{ks}}.events_by_hour WHERE {_HOUR}",
    # stage_entries_by_week
    "read_stage_entries": (
        f"SELECT visitor_id, first_ts FROM {{ks}}.stage_entries_by_week WHERE {_STAGE_WEEK} "
        "AND visitor_id IN ?"
    ),
    "select_stage_week": (
        f"SELECT stage, visitor_id, first_ts FROM {{ks}}.stage_entries_by_week WHERE {_STAGE_WEEK}"
    ),
    "insert_stage_entry": (
        "INSERT INTO {ks}.stage_entries_by_week (app_id, epoch, stage, week, visitor_id, "
        "first_ts) VALUES (?, ?, ?, ?, ?, ?)"
    ),
    "delete_stage_week": f"DELETE FROM {{ks}}.stage_entries_by_week WHERE {_STAGE_WEEK}",
    # visitor_visits
    "select_last": (
        f"SELECT session_id, last_ts FROM {{ks}}.visitor_visits WHERE {_VISITOR} LIMIT 1"
    ),
    "insert_visit": (
        "INSERT INTO {ks}.visitor_visits (app_id, epoch, visitor_id, last_ts, session_id) "
        "VALUES (?, ?, ?, ?, ?)"
    ),
    "delete_visits": f"DELETE FROM {{ks}}.visitor_visits WHERE {_VISITOR}",
    # partition_hours, stage_weeks
    "index_hour": "INSERT INTO {ks}.partition_hours (app_id, epoch, hour) VALUES (?, ?, ?)",
    "index_stage_week": (
        "INSERT INTO {ks}.stage_weeks (app_id, epoch, stage, week) VALUES (?, ?, ?, ?)"
    ),
    "hours": "SELECT hour FROM {ks}.partition_hours WHERE app_id = ? AND epoch = ?",
    "hours_between": (
        "SELECT hour FROM {ks}.partition_hours WHERE app_id = ? AND epoch = ? "
        "AND hour >= ? AND hour <= ?"
    ),
    "epochs": "SELECT epoch FROM {ks}.partition_hours WHERE app_id = ? GROUP BY epoch",
    "all_stage_weeks": "SELECT stage, week FROM {ks}.stage_weeks WHERE app_id = ? AND epoch = ?",
    "unindex_hour": f"DELETE FROM {{ks}}.partition_hours WHERE {_HOUR}",
    "unindex_stage_week": f"DELETE FROM {{ks}}.stage_weeks WHERE {_STAGE_WEEK}",
    # parts: descriptions (and late markers)
    "select_parts": (
        "SELECT bucket, level, info, WRITETIME(info) FROM {ks}.parts WHERE app_id = ? "
        "AND epoch = ? AND bucket >= ? AND bucket < ?"
    ),
    "insert_part": (
        "INSERT INTO {ks}.parts (app_id, epoch, bucket, level, info) VALUES (?, ?, ?, ?, ?) "
        "USING TIMESTAMP ?"
    ),
    "delete_part": (
        "DELETE FROM {ks}.parts USING TIMESTAMP ? WHERE app_id = ? AND epoch = ? "
        "AND bucket = ? AND level = ?"
    ),
    "delete_parts_between": (
        "DELETE FROM {ks}.parts USING TIMESTAMP ? WHERE app_id = ? AND epoch = ? "
        "AND bucket >= ? AND bucket < ?"
    ),
    "delete_parts": "DELETE FROM {ks}.parts USING TIMESTAMP ? WHERE app_id = ? AND epoch = ?",
    # part_columns
    "insert_chunk": (
        "INSERT INTO {ks}.part_columns (app_id, epoch, day, name, level, bucket, version, "
        "chunk, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?"
    ),
    "select_part_chunks": (
        f"SELECT chunk, data FROM {{ks}}.part_columns WHERE {_COLUMN} AND bucket = ? "
        "AND version = ?"
    ),
    "select_table_chunks": (  # a string column's table alone (its negative chunks)
        f"SELECT chunk, data FROM {{ks}}.part_columns WHERE {_COLUMN} AND bucket = ? "
        "AND version = ? AND chunk < 0"
    ),
    "select_level_chunks": (
        f"SELECT bucket, version, chunk, data FROM {{ks}}.part_columns WHERE {_COLUMN}"
    ),
    "delete_version": (
        f"DELETE FROM {{ks}}.part_columns USING TIMESTAMP ? WHERE {_COLUMN} AND bucket = ? "
        "AND version = ?"
    ),
    "delete_column_level": (f"DELETE FROM {{ks}}.part_columns USING TIMESTAMP ? WHERE {_COLUMN}"),
    "delete_column_day": f"DELETE FROM {{ks}}.part_columns WHERE {_COLUMN}",
    # build_queue
    "enqueue": (
        "INSERT INTO {ks}.build_queue (shard, day, app_id, epoch, bucket, level, queued) "
        "VALUES (?, ?, ?, ?, ?, ?, true) USING TIMESTAMP ?"
    ),
    "queue": (
        "SELECT app_id, epoch, bucket, level, WRITETIME(queued) FROM {ks}.build_queue "
        "WHERE shard = ? AND day = ?"
    ),
    "dequeue": (
        "DELETE FROM {ks}.build_queue USING TIMESTAMP ? WHERE shard = ? AND day = ? "
        "AND app_id = ? AND epoch = ? AND bucket = ? AND level = ?"
    ),
    "dequeue_partition": (
        "DELETE FROM {ks}.build_queue WHERE shard = ? AND day = ? AND app_id = ? AND epoch = ?"
    ),
    # schema_state
    "state": "SELECT done, detail FROM {ks}.schema_state WHERE name = ?",
}

_FETCH_SIZES = {
    "select_hour": PAGE_SIZE,
    "scan_hour": SCAN_PAGE_SIZE,
    "visitors_of_hour": SCAN_PAGE_SIZE,
    "keys_between": SCAN_PAGE_SIZE,
    "select_stage_week": SCAN_PAGE_SIZE,
    "select_parts": SCAN_PAGE_SIZE,
    "queue": SCAN_PAGE_SIZE,
    "select_part_chunks": CHUNK_PAGE_SIZE,
    "select_level_chunks": CHUNK_PAGE_SIZE,
    "select_table_chunks": CHUNK_PAGE_SIZE,
}


class Statements:
    """The prepared statements, as attributes named like the keys of `CQL`."""

    def __init__(self, session, keyspace: str) -> None:
        for name, cql in CQL.items():
            statement = session.prepare(cql.format(ks=keyspace))
            statement.fetch_size = _FETCH_SIZES.get(name, statement.fetch_size)
            setattr(self, name, statement)


def event_of_row(row: Sequence) -> StoredEvent:
    """A raw event read with all of COLUMNS."""
    values = dict(zip(COLUMNS, row, strict=True))
    for name in JSON_COLUMNS:
        if values[name] is not None:
            values[name] = orjson.loads(values[name])
    values["stages"] = tuple(values["stages"] or ())
    return StoredEvent(**values)


def scan_row(row: tuple) -> ScanRow:
    """A raw event read with ScanRow's columns (`scan_hour`)."""
    return ScanRow._make((*row[:-1], tuple(row[-1] or ())))
