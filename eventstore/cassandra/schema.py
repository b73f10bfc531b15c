"""The keyspace and tables of the Cassandra event store (docs/cassandra-data-model.md).

Query-first: each table serves reads of `EventStore`, and every read names one partition.
Partitions are bounded by time: raw events by hour, stage entries by week, column parts by day
and column. Created by `python manage.py cassandra_migrate` (which also moves the data of a
keyspace made by the previous schema, `legacy.py`); checked by `CassandraEventStore`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cassandra import ConsistencyLevel
from django.core.exceptions import ImproperlyConfigured

EVENT_COLUMNS = """type text, visitor_id text, session_id text, path text, query text,
        title text, referrer text, selector text, name text, action text, duration_ms bigint,
        props text, browser text, os text, device text, screen bigint, lang text, campaign text,
        utm text, stages frozen<list<int>>"""
"""The columns of a raw event after its key (`statements.COLUMNS`), as CQL."""

TABLES: dict[str, str] = {
    # Raw events, one partition per (app, epoch, UTC hour: hours since 1970), ordered by time.
    # Serves events(), scan() and the column parts' builds (ts range on the clustering key),
    # and the duplicate check of append(). ~65 MB per partition at 10M events/app/day.
    "events_by_hour": f"""
        app_id bigint, epoch int, hour int, ts bigint, event_id text, {EVENT_COLUMNS},
        PRIMARY KEY ((app_id, epoch, hour), ts, event_id)
    ) WITH CLUSTERING ORDER BY (ts ASC, event_id ASC)""",
    # Who entered a funnel stage, per week of the entry (weeks since 1970). A visitor's first
    # entry is the smallest first_ts over the weeks: rows are only ever added (no transaction),
    # the clustering order puts each visitor's earliest row of a week first.
    "stage_entries_by_week": """
        app_id bigint, epoch int, stage int, week int, visitor_id text, first_ts bigint,
        PRIMARY KEY ((app_id, epoch, stage, week), visitor_id, first_ts)
    ) WITH CLUSTERING ORDER BY (visitor_id ASC, first_ts ASC)""",
    # Each visitor's visits, latest first: last_seen() reads the first row. Rows are only
    # ever added (one per append that saw the visitor), so no transaction is needed.
    "visitor_visits": """
        app_id bigint, epoch int, visitor_id text, last_ts bigint, session_id text,
        PRIMARY KEY ((app_id, epoch, visitor_id), last_ts, session_id)
    ) WITH CLUSTERING ORDER BY (last_ts DESC, session_id DESC)""",
    # Which hour partitions an app has, per epoch. Serves epochs(), count_events(), events(),
    # delete_partition(), and lets reads skip hours without events.
    "partition_hours": """
        app_id bigint, epoch int, hour int,
        PRIMARY KEY ((app_id), epoch, hour)
    )""",
    # Which stage-week partitions an app has, per epoch. Serves stage_visitors() and
    # delete_partition().
    "stage_weeks": """
        app_id bigint, epoch int, stage int, week int,
        PRIMARY KEY ((app_id), epoch, stage, week)
    )""",
    # Column parts: one row per part (level 0: a slot of SLOT_MS; level 1: a UTC day) holding
    # its description (`info`: version, events, per-slot coverage), and one marker row per
    # slot that received a late event (level -1; its write time is what counts).
    "parts": """
        app_id bigint, epoch int, bucket bigint, level int, info blob,
        PRIMARY KEY ((app_id, epoch), bucket, level)
    )""",
    # The bytes of the parts: per (app, epoch, day, column, level), each part's encoded column
    # in chunks (chunk >= 0) and, for string columns, its string table (chunk < 0). At 10M
    # events/app/day the largest partition (a day part's event ids) is ~80 MB.
    "part_columns": """
        app_id bigint, epoch int, day int, name text, level int, bucket bigint, version bigint,
        chunk int, data blob,
        PRIMARY KEY ((app_id, epoch, day, name, level), bucket, version, chunk)
    )""",
    # Work for the column part builders of every process: the slots (level 0, in the
    # partition of their day: builders read today's and yesterday's) and days (level 1, in
    # day -1) that have events not yet in a part. Hints only (a lost item costs speed, not
    # exactness), so tombstones are purged fast; a slot partition is not read after two days.
    "build_queue": """
        shard int, day int, app_id bigint, epoch int, bucket bigint, level int, queued boolean,
        PRIMARY KEY ((shard, day), app_id, epoch, bucket, level)
    ) WITH gc_grace_seconds = 3600""",
    # What cassandra_migrate has done in this keyspace (moving a previous schema's data).
    "schema_state": """
        name text, done boolean, detail text,
        PRIMARY KEY (name)
    )""",
}

_KEYSPACE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,47}")
_DC_FACTOR = re.compile(r"([A-Za-z0-9_.-]+)=(\d+)")


def check_keyspace_name(keyspace: str) -> str:
    if not _KEYSPACE_NAME.fullmatch(keyspace):
        raise ImproperlyConfigured(
            f"DATALAB_CASSANDRA_KEYSPACE must be a letter then up to 47 letters, digits or _, "
            f"got {keyspace!r}"
        )
    return keyspace


def parse_replication(value: str) -> dict[str, str]:
    """`SimpleStrategy:1` or `NetworkTopologyStrategy:dc1=3,dc2=3` -> CQL replication map."""
    strategy, _, factors = value.partition(":")
    strategy, factors = strategy.strip(), factors.strip()
    if strategy == "SimpleStrategy" and factors.isdigit() and int(factors) > 0:
        return {"class": "SimpleStrategy", "replication_factor": factors}
    if strategy == "NetworkTopologyStrategy" and factors:
        pairs = [_DC_FACTOR.fullmatch(item.strip()) for item in factors.split(",")]
        if all(pairs) and all(int(pair[2]) > 0 for pair in pairs):
            return {"class": "NetworkTopologyStrategy", **{pair[1]: pair[2] for pair in pairs}}
    raise ImproperlyConfigured(
        "DATALAB_CASSANDRA_REPLICATION must be 'SimpleStrategy:RF' or "
        f"'NetworkTopologyStrategy:dc1=RF,dc2=RF', got {value!r}"
    )


def parse_consistency(value: str) -> int:
    """A consistency level name (`LOCAL_QUORUM`, `LOCAL_ONE`, `QUORUM`...) -> the driver's."""
    level = ConsistencyLevel.name_to_value.get(value.strip().upper())
    if level is None or level in (ConsistencyLevel.SERIAL, ConsistencyLevel.LOCAL_SERIAL):
        choices = ", ".join(
            name for name in ConsistencyLevel.name_to_value if not name.endswith("SERIAL")
        )
        raise ImproperlyConfigured(
            f"DATALAB_CASSANDRA_CONSISTENCY must be one of {choices}, got {value!r}"
        )
    return level


def serial_consistency_for(level: int) -> int:
    """The Paxos consistency of lightweight transactions, local unless reads/writes are not."""
    cross_dc = (ConsistencyLevel.QUORUM, ConsistencyLevel.EACH_QUORUM, ConsistencyLevel.ALL)
    return ConsistencyLevel.SERIAL if level in cross_dc else ConsistencyLevel.LOCAL_SERIAL


def _cql_map(values: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"'{key}': '{value}'" for key, value in values.items()) + "}"


def keyspace_cql(keyspace: str, replication: Mapping[str, str]) -> str:
    return (
        f"CREATE KEYSPACE IF NOT EXISTS {check_keyspace_name(keyspace)} "
        f"WITH replication = {_cql_map(replication)}"
    )


def alter_keyspace_cql(keyspace: str, replication: Mapping[str, str]) -> str:
    return f"ALTER KEYSPACE {keyspace} WITH replication = {_cql_map(replication)}"


def table_cql(keyspace: str, table: str, tables: Mapping[str, str] = TABLES) -> str:
    return f"CREATE TABLE IF NOT EXISTS {keyspace}.{table} ({tables[table]}"


def create_schema(session, keyspace: str, replication: Mapping[str, str]) -> list[str]:
    """Create the keyspace and the tables that are missing; return what was created.

    An existing keyspace keeps its replication (see `replication_differs`): changing it is an
    operator's decision (ALTER KEYSPACE, then a full repair).
    """
    metadata = session.cluster.metadata
    created = []
    if keyspace not in metadata.keyspaces:
        session.execute(keyspace_cql(keyspace, replication), timeout=60)
        created.append(f"keyspace {keyspace}")
    for table in TABLES:
        existing = metadata.keyspaces.get(keyspace)
        if existing is None or table not in existing.tables:
            session.execute(table_cql(keyspace, table), timeout=60)
            created.append(f"table {keyspace}.{table}")
    session.cluster.refresh_schema_metadata()
    return created


def replication_differs(session, keyspace: str, replication: Mapping[str, str]) -> str | None:
    """How the keyspace's replication differs from the configured one (None: it does not)."""
    row = session.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", (keyspace,)
    ).one()
    if row is None:
        return None
    current = dict(row[0])
    current["class"] = current["class"].rsplit(".", 1)[-1]
    if current == dict(replication):
        return None
    wanted = dict(replication)
    return f"keyspace {keyspace} has replication {current}, the settings ask for {wanted}"


def missing_schema(cluster, keyspace: str) -> list[str]:
    """What of the keyspace, its tables and their columns is missing (empty: all there)."""
    existing = cluster.metadata.keyspaces.get(keyspace)
    if existing is None:
        return [f"keyspace {keyspace}"]
    missing = []
    for table, body in TABLES.items():
        if table not in existing.tables:
            missing.append(f"table {keyspace}.{table}")
            continue
        columns = existing.tables[table].columns
        for name in column_names(body):
            if name not in columns:
                missing.append(f"column {keyspace}.{table}.{name}")
    return missing


def column_names(body: str) -> list[str]:
    definitions = body.split("PRIMARY KEY")[0]
    names = [item.split()[0] for item in definitions.split(",") if item.strip()]
    return [name for name in names if name.isidentifier()]
