"""The Apache Cassandra backend of the event store (`DATALAB_EVENT_STORE=cassandra`).

`store.py` is the backend, `schema.py` its tables (created by `manage.py cassandra_migrate`),
`statements.py` its prepared statements, `derived.py` the stage-entry and last-seen writes,
`connection.py` the driver set-up. The data model: docs/cassandra-data-model.md.
"""

from .schema import create_schema, missing_schema, parse_consistency, parse_replication
from .store import CassandraEventStore

__all__ = [
    "CassandraEventStore",
    "create_schema",
    "missing_schema",
    "parse_consistency",
    "parse_replication",
]
