"""The previous schema (events by day, stage entries and last seen kept by lightweight
transactions) and the move of its data into the current one, done by `cassandra_migrate`.

The move reads every day partition the previous schema lists (`partition_days`: the one full
table scan of this package, of a table of a few rows per app and day) and imports its events
into the current tables (`import_events`: idempotent, so an interrupted move just runs again).
Stage entries and last seen are derived from the events, as they were. When every day is moved,
a `schema_state` row records it; the previous tables are left for the operator to drop.
Server processes refuse to start while a keyspace holds previous-schema data not moved yet.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import SchemaReport
from .schema import EVENT_COLUMNS
from .statements import COLUMNS, event_of_row

STATE = "moved events_by_day"
GROUP = 5000  # events imported at once

TABLES: dict[str, str] = {
    "events_by_day": f"""
        app_id bigint, epoch int, day date, ts bigint, event_id text, {EVENT_COLUMNS},
        PRIMARY KEY ((app_id, epoch, day), ts, event_id)
    ) WITH CLUSTERING ORDER BY (ts ASC, event_id ASC)""",
    "stage_entries": """
        app_id bigint, epoch int, stage int, visitor_id text, first_ts bigint,
        PRIMARY KEY ((app_id, epoch, stage), visitor_id)
    )""",
    "visitor_last": """
        app_id bigint, epoch int, visitor_id text, session_id text, last_ts bigint,
        PRIMARY KEY ((app_id, epoch, visitor_id))
    )""",
    "partition_days": """
        app_id bigint, epoch int, day date,
        PRIMARY KEY ((app_id), epoch, day)
    )""",
    "partition_stages": """
        app_id bigint, epoch int, stage int,
        PRIMARY KEY ((app_id), epoch, stage)
    )""",
}

CQL = {
    "days": "SELECT app_id, epoch, day FROM {ks}.partition_days",  # the full scan (see above)
    "any_day": "SELECT app_id FROM {ks}.partition_days LIMIT 1",
    "select_day": (
        f"SELECT {', '.join(COLUMNS)} FROM {{ks}}.events_by_day WHERE app_id = ? AND epoch = ? "
        "AND day = ?"
    ),
    "insert_event": (
        f"INSERT INTO {{ks}}.events_by_day (day, {', '.join(COLUMNS)}) "
        f"VALUES ({', '.join('?' * (len(COLUMNS) + 1))})"
    ),
    "index_day": "INSERT INTO {ks}.partition_days (app_id, epoch, day) VALUES (?, ?, ?)",
}


def _tables(session, keyspace: str) -> dict:
    existing = session.cluster.metadata.keyspaces.get(keyspace)
    return existing.tables if existing is not None else {}


def unmigrated(session, keyspace: str) -> list[str]:
    """What of a previous schema's data is not moved yet (empty: nothing, or no such data)."""
    tables = _tables(session, keyspace)
    if "events_by_day" not in tables or "partition_days" not in tables:
        return []
    if "schema_state" in tables:
        row = session.execute(
            f"SELECT done FROM {keyspace}.schema_state WHERE name = %s", (STATE,)
        ).one()
        if row is not None and row[0]:
            return []
    if session.execute(CQL["any_day"].format(ks=keyspace)).one() is None:
        return []
    return [f"the events of {keyspace}.events_by_day moved into events_by_hour"]


def migrate(build_store: Callable, report: SchemaReport) -> None:
    """Move the previous schema's events into the current tables, if not done yet."""
    from ..values import StoredEvent

    store = build_store()
    try:
        session, keyspace = store.session, store.keyspace
        if not unmigrated(session, keyspace):
            return
        days = session.prepare(CQL["days"].format(ks=keyspace))
        select_day = session.prepare(CQL["select_day"].format(ks=keyspace))
        select_day.fetch_size = 1000
        moved = partitions = 0
        for app_id, epoch, day in session.execute(days):
            batch: list[StoredEvent] = []
            for row in session.execute(select_day, (app_id, epoch, day)):
                batch.append(event_of_row(row))
                if len(batch) == GROUP:
                    moved += len(store.import_events(batch).new_keys)
                    batch = []
            if batch:
                moved += len(store.import_events(batch).new_keys)
            partitions += 1
        session.execute(
            f"INSERT INTO {keyspace}.schema_state (name, done, detail) VALUES (%s, true, %s)",
            (STATE, f"{moved} events of {partitions} day partitions"),
        )
    finally:
        store.close()
    tables = ", ".join(f"{keyspace}.{name}" for name in TABLES)
    report.created.append(
        f"the rows of {moved} events in events_by_hour, moved from {partitions} day partitions "
        "of the previous schema (column parts are built by the servers; the previous tables are "
        f"left in place: drop them once satisfied: {tables})"
    )
