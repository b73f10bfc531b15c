"""The keyspace and tables of the Cassandra event store (docs/cassandra-data-model.md).

Query-first: each table serves one read of `EventStore`, and every read names one partition.
Created by `python manage.py cassandra_migrate`; checked by `CassandraEventStore.from_settings()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cassandra import ConsistencyLevel
from django.core.exceptions import ImproperlyConfigured

TABLES: dict[str, str] = {
    # Raw events, one partition per (app, epoch, UTC day), ordered by time. Serves events(),
    # scan() (ts range on the clustering key) and the duplicate check of append().
    "events_by_day": """
        app_id bigint, epoch int, day date, ts bigint, event_id text,
        type text, visitor_id text, session_id text, path text, query text, title text,
        referrer text, selector text, name text, action text, duration_ms bigint, props text,
        browser text, os text, device text, screen bigint, lang text, campaign text, utm text,
        stages frozen<list<int>>,
        PRIMARY KEY ((app_id, epoch, day), ts, event_id)
    ) WITH CLUSTERING ORDER BY (ts ASC, event_id ASC)""",
    # Distinct visitors per funnel stage with their first entry. Serves stage_visitors().
    "stage_entries": """
        app_id bigint, epoch int, stage int, visitor_id text, first_ts bigint,
        PRIMARY KEY ((app_id, epoch, stage), visitor_id)
    )""",
    # Each visitor's latest event, for sessionization at connect. Serves last_seen().
    "visitor_last": """
        app_id bigint, epoch int, visitor_id text, session_id text, last_ts bigint,
        PRIMARY KEY ((app_id, epoch, visitor_id))
    )""",
    # Which day partitions an app has, per epoch. Serves epochs(), count_events(), events(),
    # delete_partition(), and lets scan() skip days without events.
    "partition_days": """
        app_id bigint, epoch int, day date,
        PRIMARY KEY ((app_id), epoch, day)
    )""",
    # Which stage partitions an app has, per epoch. Serves delete_partition().
    "partition_stages": """
        app_id bigint, epoch int, stage int,
        PRIMARY KEY ((app_id), epoch, stage)
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


def table_cql(keyspace: str, table: str) -> str:
    return f"CREATE TABLE IF NOT EXISTS {keyspace}.{table} ({TABLES[table]}"


def create_schema(session, keyspace: str, replication: Mapping[str, str]) -> list[str]:
    """Create the keyspace and the tables that are missing; return what was created.

    An existing keyspace keeps its replication (see `replication_differs`): changing it is an
    operator's decision (ALTER KEYSPACE, then a full repair).
    """
    metadata = session.cluster.metadata
    created = []
    if keyspace not in metadata.keyspaces:
        session.execute(keyspace_cql(keyspace, replication))
        created.append(f"keyspace {keyspace}")
    for table in TABLES:
        existing = metadata.keyspaces.get(keyspace)
        if existing is None or table not in existing.tables:
            session.execute(table_cql(keyspace, table))
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
        for name in _column_names(body):
            if name not in columns:
                missing.append(f"column {keyspace}.{table}.{name}")
    return missing


def _column_names(body: str) -> list[str]:
    definitions = body.split("PRIMARY KEY")[0]
    return [item.split()[0] for item in definitions.split(",") if item.strip()]
