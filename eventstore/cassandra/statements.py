"""Every statement of the store, prepared once per process. Each names one partition.

No ALLOW FILTERING, no aggregate across partitions: COUNT(*) counts one day partition.
"""

from __future__ import annotations

import functools
from dataclasses import fields

from cassandra.util import Date

from ..values import ScanRow, StoredEvent, day_name

COLUMNS = tuple(f.name for f in fields(StoredEvent))
"""The columns of a raw event, in StoredEvent's order (`day` is derived from `ts`)."""

PAGE_SIZE = 1000  # rows per page of events()
SCAN_PAGE_SIZE = 5000  # rows per page of the light reads (scan, stage entries, visitors)

_DAY = "app_id = ? AND epoch = ? AND day = ?"
_STAGE = "app_id = ? AND epoch = ? AND stage = ?"
_VISITOR = "app_id = ? AND epoch = ? AND visitor_id = ?"

CQL = {
    # events_by_day
    "insert_event": (
        f"INSERT INTO {{ks}}.events_by_day (day, {', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
    ),
    "find_keys": (
        f"SELECT ts, event_id, visitor_id, session_id, stages FROM {{ks}}.events_by_day "
        f"WHERE {_DAY} AND ts IN ?"
    ),
    "select_day": f"SELECT {', '.join(COLUMNS)} FROM {{ks}}.events_by_day WHERE {_DAY}",
    "scan_day": (
        f"SELECT {', '.join(ScanRow._fields)} FROM {{ks}}.events_by_day "
        f"WHERE {_DAY} AND ts >= ? AND ts < ?"
    ),
    "count_day": f"SELECT COUNT(*) FROM {{ks}}.events_by_day WHERE {_DAY}",
    "visitors_of_day": f"SELECT visitor_id FROM {{ks}}.events_by_day WHERE {_DAY}",
    "delete_day": f"DELETE FROM {{ks}}.events_by_day WHERE {_DAY}",
    # stage_entries
    "read_stage_entries": (
        f"SELECT visitor_id, first_ts FROM {{ks}}.stage_entries WHERE {_STAGE} AND visitor_id IN ?"
    ),
    "select_stage": f"SELECT visitor_id, first_ts FROM {{ks}}.stage_entries WHERE {_STAGE}",
    "select_stage_tagged": (
        f"SELECT stage, visitor_id, first_ts FROM {{ks}}.stage_entries WHERE {_STAGE}"
    ),
    "insert_stage_entry": (
        "INSERT INTO {ks}.stage_entries (app_id, epoch, stage, visitor_id, first_ts) "
        "VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
    ),
    "lower_stage_entry": (
        f"UPDATE {{ks}}.stage_entries SET first_ts = ? WHERE {_STAGE} AND visitor_id = ? "
        "IF first_ts > ?"
    ),
    "delete_stage": f"DELETE FROM {{ks}}.stage_entries WHERE {_STAGE}",
    # visitor_last
    "select_last": f"SELECT session_id, last_ts FROM {{ks}}.visitor_last WHERE {_VISITOR}",
    "insert_last": (
        "INSERT INTO {ks}.visitor_last (app_id, epoch, visitor_id, session_id, last_ts) "
        "VALUES (?, ?, ?, ?, ?) IF NOT EXISTS"
    ),
    "raise_last": (
        f"UPDATE {{ks}}.visitor_last SET session_id = ?, last_ts = ? WHERE {_VISITOR} "
        "IF last_ts <= ?"
    ),
    "delete_last": f"DELETE FROM {{ks}}.visitor_last WHERE {_VISITOR}",
    # partition_days, partition_stages
    "index_day": "INSERT INTO {ks}.partition_days (app_id, epoch, day) VALUES (?, ?, ?)",
    "index_stage": "INSERT INTO {ks}.partition_stages (app_id, epoch, stage) VALUES (?, ?, ?)",
    "days": "SELECT day FROM {ks}.partition_days WHERE app_id = ? AND epoch = ?",
    "days_between": (
        "SELECT day FROM {ks}.partition_days WHERE app_id = ? AND epoch = ? "
        "AND day >= ? AND day <= ?"
    ),
    "epochs": "SELECT epoch FROM {ks}.partition_days WHERE app_id = ?",
    "stages": "SELECT stage FROM {ks}.partition_stages WHERE app_id = ? AND epoch = ?",
    "unindex_day": f"DELETE FROM {{ks}}.partition_days WHERE {_DAY}",
    "unindex_stage": f"DELETE FROM {{ks}}.partition_stages WHERE {_STAGE}",
}

_FETCH_SIZES = {
    "select_day": PAGE_SIZE,
    "scan_day": SCAN_PAGE_SIZE,
    "visitors_of_day": SCAN_PAGE_SIZE,
    "select_stage": SCAN_PAGE_SIZE,
    "select_stage_tagged": SCAN_PAGE_SIZE,
}


@functools.lru_cache(maxsize=4096)
def cql_date(day: str) -> Date:
    """'YYYY-MM-DD' -> the driver's value of a CQL `date`."""
    return Date(day)


def day_of(value: Date) -> str:
    """A CQL `date` read back -> 'YYYY-MM-DD'."""
    return day_name(value.days_from_epoch)


class Statements:
    """The prepared statements, as attributes named like the keys of `CQL`."""

    def __init__(self, session, keyspace: str) -> None:
        for name, cql in CQL.items():
            statement = session.prepare(cql.format(ks=keyspace))
            statement.fetch_size = _FETCH_SIZES.get(name, statement.fetch_size)
            setattr(self, name, statement)
