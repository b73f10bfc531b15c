"""The event store on an Apache Cassandra cluster (data model: docs/cassandra-data-model.md).

How `append` stays exact without multi-partition transactions, whatever is re-sent or retried:
1. Every statement is bound first: bad data fails before anything is written.
2. One round of reads: the batch's keys in their day partitions (`ts IN ?`: a re-sent event
   carries the same ts and id) give the duplicates, as stored; the current stage entries and
   last-seen rows of its visitors; the partition index rows are inserted meanwhile.
3. One round of writes: raw rows of the new events, and stage entries (minimum first ts) and
   last seen (maximum ts) by compare-and-set (`derived.py`), computed from the new events and
   from the duplicates as stored. For a duplicate this writes nothing unless an earlier append
   died between its raw row and its derived rows: the retry repairs it. Nothing acked is lost,
   nothing counts twice. No counter anywhere: counters are not idempotent.
`count_events` counts the raw rows of each day partition: exact by construction.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence

import orjson
from cassandra.query import UNSET_VALUE
from django.core.exceptions import ImproperlyConfigured

from ..base import EventStore, SchemaReport
from ..values import MS_PER_DAY, AppendResult, ScanRow, StoredEvent, StoreUnavailable, day_name
from . import schema
from .connection import LONG, REQUEST_TIMEOUT, connect, paged_rows, run_all, translated_errors
from .derived import Current, DerivedRows
from .statements import COLUMNS, Statements, cql_date, day_of

logger = logging.getLogger(__name__)

IMPORT_GROUP = 500  # events per append of an import, as the writer groups them
IMPORT_APPENDS = 4  # appends of an import in flight at once

CONCURRENCY = 64  # requests in flight per call
IN_CHUNK = 100  # keys per `IN ?` read
SCAN_DAYS_IN_FLIGHT = 8  # day partitions read at once by scan()

_JSON = ("props", "utm")
_JSON_INDEXES = tuple(COLUMNS.index(name) for name in _JSON)
_STAGES = COLUMNS.index("stages")
_ONE_REPLICA_LEVELS = ("ONE", "LOCAL_ONE", "ANY")


def insert_values(event: StoredEvent) -> list:
    """The values of `insert_event`: day, then the event's columns (None left unset: a null
    would write a tombstone)."""
    values = [getattr(event, name) for name in COLUMNS]
    for index in _JSON_INDEXES:
        if values[index] is not None:
            values[index] = orjson.dumps(values[index]).decode()
    values[_STAGES] = list(event.stages) or None
    return [cql_date(event.day), *(UNSET_VALUE if v is None else v for v in values)]


def _from_row(row: Sequence) -> StoredEvent:
    values = dict(zip(COLUMNS, row, strict=True))
    for name in _JSON:
        if values[name] is not None:
            values[name] = orjson.loads(values[name])
    values["stages"] = tuple(values["stages"] or ())
    return StoredEvent(**values)


def _scan_row(row: tuple) -> ScanRow:
    return ScanRow._make((*row[:-1], tuple(row[-1] or ())))


def _chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class CassandraEventStore(EventStore):
    """The event store on a Cassandra cluster, shared by any number of server processes."""

    def __init__(
        self,
        *,
        hosts: Sequence[str],
        port: int = 9042,
        keyspace: str,
        local_dc: str = "datacenter1",
        consistency: str = "LOCAL_QUORUM",
        concurrency: int = CONCURRENCY,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        self.keyspace = schema.check_keyspace_name(keyspace)
        self.concurrency = concurrency
        self.request_timeout = request_timeout
        self.cluster = connect(
            hosts=hosts,
            port=port,
            local_dc=local_dc,
            consistency=schema.parse_consistency(consistency),
            request_timeout=request_timeout,
        )
        self._closed = False
        try:
            with translated_errors(f"connecting to {', '.join(hosts)} port {port}"):
                self.session = self.cluster.connect()
            self._check_schema()
            with translated_errors("preparing statements"):
                self.statements = Statements(self.session, self.keyspace)
        except BaseException:
            self.cluster.shutdown()
            raise
        self.derived = DerivedRows(self.session, self.statements, concurrency=concurrency)

    @classmethod
    def from_settings(cls) -> CassandraEventStore:
        """The store of `settings.CASSANDRA`; refuses to start when the schema is missing."""
        from django.conf import settings

        config = settings.CASSANDRA
        replication = schema.parse_replication(config["replication"])
        factor = max(int(value) for key, value in replication.items() if key != "class")
        if factor > 1 and config["consistency"].strip().upper() in _ONE_REPLICA_LEVELS:
            logger.warning(
                "event store: replication %s with consistency %s: acked events live on one "
                "replica until repaired; set DATALAB_CASSANDRA_CONSISTENCY=LOCAL_QUORUM",
                config["replication"],
                config["consistency"],
            )
        return cls(
            hosts=config["hosts"],
            port=config["port"],
            keyspace=config["keyspace"],
            local_dc=config["local_dc"],
            consistency=config["consistency"],
        )

    @classmethod
    def schema_migrate(cls, *, namespace: str | None = None) -> SchemaReport:
        """Create the keyspace (with the configured replication) and the tables it lacks."""
        keyspace, replication = cls._schema_target(namespace)
        with cls._admin_session() as (_cluster, session):
            report = SchemaReport(created=schema.create_schema(session, keyspace, replication))
            differs = schema.replication_differs(session, keyspace, replication)
        if differs:
            report.warnings.append(
                f"{differs}. Left as is: to change it, run\n"
                f"  {schema.alter_keyspace_cql(keyspace, replication)};\n"
                "then `nodetool repair --full` on every node."
            )
        return report

    @classmethod
    def schema_missing(cls, *, namespace: str | None = None) -> list[str]:
        keyspace, _ = cls._schema_target(namespace)
        with cls._admin_session() as (cluster, _session):
            return schema.missing_schema(cluster, keyspace)

    @staticmethod
    def _schema_target(namespace: str | None) -> tuple[str, dict]:
        from django.conf import settings

        config = settings.CASSANDRA
        keyspace = schema.check_keyspace_name(namespace or config["keyspace"])
        return keyspace, schema.parse_replication(config["replication"])

    @staticmethod
    @contextlib.contextmanager
    def _admin_session():
        from django.conf import settings

        config = settings.CASSANDRA
        cluster = connect(
            hosts=config["hosts"],
            port=config["port"],
            local_dc=config["local_dc"],
            consistency=schema.parse_consistency(config["consistency"]),
        )
        try:
            with translated_errors(f"at {', '.join(config['hosts'])} port {config['port']}"):
                yield cluster, cluster.connect()
        finally:
            cluster.shutdown()

    def _check_schema(self) -> None:
        missing = schema.missing_schema(self.cluster, self.keyspace)
        if missing:
            shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
            raise ImproperlyConfigured(
                f"the Cassandra event store has no schema yet (missing {shown}): "
                "run `python manage.py cassandra_migrate` with the same DATALAB_CASSANDRA_* "
                "settings, then start again"
            )

    def _run(self, calls: Iterable[tuple], **options) -> list:
        return run_all(self._live_session(), calls, limit=self.concurrency, **options)

    # -- writes ------------------------------------------------------------------------------

    def append(self, events: Sequence[StoredEvent]) -> AppendResult:
        first: dict = {}
        for event in events:
            first.setdefault(event.key, event)
        unique = list(first.values())
        insert = self.statements.insert_event
        bound = [insert.bind(insert_values(event)) for event in unique]  # bad data raises here
        if not bound:
            return AppendResult()
        with translated_errors("append"):
            stored, current = self._read_before_write(unique)
            new, raw_rows = [], []
            for event, statement in zip(unique, bound, strict=True):
                if (event.app_id, event.epoch, event.ts, event.event_id) not in stored:
                    new.append(event)
                    raw_rows.append((statement, None))
            # Raw rows and derived rows in one round. The duplicates' derived rows too, from
            # what is stored: a no-op (filtered out by `current`) unless an earlier append
            # failed after writing their raw rows but not all their derived rows. Listed first,
            # so that a new event wins a tie on last seen, as it would in SQLite.
            self.derived.write([*stored.values(), *new], current, also=raw_rows)
        new_keys = frozenset(event.key for event in new)
        return AppendResult(new_keys=new_keys, duplicate_keys=frozenset(first) - new_keys)

    def import_events(self, events: Sequence[StoredEvent]) -> AppendResult:
        """Appends of IMPORT_GROUP events, IMPORT_APPENDS of them at a time: each waits on its
        round trips, and appends of disjoint events may run together (as from several server
        processes)."""
        groups = [events[i : i + IMPORT_GROUP] for i in range(0, len(events), IMPORT_GROUP)]
        with concurrent.futures.ThreadPoolExecutor(IMPORT_APPENDS) as pool:
            results = list(pool.map(self.append, groups))
        new = frozenset().union(*(result.new_keys for result in results))
        duplicates = frozenset().union(*(result.duplicate_keys for result in results))
        return AppendResult(new_keys=new, duplicate_keys=duplicates - new)

    def _read_before_write(
        self, events: list[StoredEvent]
    ) -> tuple[dict[tuple, StoredEvent], Current]:
        """In one round trip: the events already stored (by (app_id, epoch, ts, event_id), as
        stored: visitor, session, stages), and the stage-entry and last-seen rows the batch may
        change. The partition index rows of the batch are written meanwhile (idempotent)."""
        stamps: dict[tuple, set[int]] = defaultdict(set)
        for event in events:
            stamps[(event.app_id, event.epoch, event.day)].add(event.ts)
        key_calls = [
            (self.statements.find_keys, (app_id, epoch, cql_date(day), chunk))
            for (app_id, epoch, day), times in stamps.items()
            for chunk in _chunks(sorted(times))
        ]
        derived_calls = self.derived.reads(events)
        calls = key_calls + derived_calls + self.derived.index_rows(events)
        results = self._run(calls)
        wanted = {(e.app_id, e.epoch, e.ts, e.event_id) for e in events}
        stored = {}
        for (_, (app_id, epoch, *_)), rows in zip(key_calls, results, strict=False):
            for ts, event_id, visitor_id, session_id, stages in rows:
                key = (app_id, epoch, ts, event_id)
                if key in wanted:
                    stored[key] = StoredEvent(
                        app_id=app_id, epoch=epoch, event_id=event_id, ts=ts, type="",
                        visitor_id=visitor_id, session_id=session_id, stages=tuple(stages or ()),
                    )  # fmt: skip
        end = len(key_calls) + len(derived_calls)
        current = self.derived.current(derived_calls, results[len(key_calls) : end])
        return stored, current

    def delete_partition(self, app_id: int, epoch: int) -> int:
        with translated_errors("delete"):
            stages = [stage for (stage,) in self._execute(self.statements.stages, app_id, epoch)]
            self._run((self.statements.delete_stage, (app_id, epoch, s)) for s in stages)
            self._run((self.statements.unindex_stage, (app_id, epoch, s)) for s in stages)
            deleted = 0
            for day in self._partition_days(app_id, epoch):
                deleted += self._delete_day(app_id, epoch, day)
        return deleted

    def _delete_day(self, app_id: int, epoch: int, day: str) -> int:
        """One day partition, its visitors' last-seen rows first, its index row last."""
        key = (app_id, epoch, cql_date(day))
        visitors = [visitor for (visitor,) in self._execute(self.statements.visitors_of_day, *key)]
        self._run(
            (self.statements.delete_last, (app_id, epoch, visitor)) for visitor in set(visitors)
        )
        self._run([(self.statements.delete_day, key)])
        self._run([(self.statements.unindex_day, key)])
        return len(visitors)

    # -- reads -------------------------------------------------------------------------------

    def _live_session(self):
        if self._closed:
            raise StoreUnavailable("event store (Cassandra) is closed")
        return self.session

    def _execute(self, statement, *params) -> Iterator[tuple]:
        """The rows of one single-partition read, fetched page by page as they are consumed."""
        yield from self._live_session().execute(statement, params)

    def _partition_days(self, app_id: int, epoch: int) -> list[str]:
        return [day_of(day) for (day,) in self._execute(self.statements.days, app_id, epoch)]

    def last_seen(
        self, app_id: int, epoch: int, visitor_ids: Collection[str]
    ) -> dict[str, tuple[str, int]]:
        wanted = list(dict.fromkeys(visitor_ids))
        with translated_errors("last seen"):
            results = self._run(
                (self.statements.select_last, (app_id, epoch, visitor)) for visitor in wanted
            )
        seen = {}
        for visitor, rows in zip(wanted, results, strict=True):
            row = rows.one()
            if row is not None:
                seen[visitor] = (row[0], row[1])
        return seen

    def events(self, app_id: int, epoch: int, *, day: str | None = None) -> Iterator[StoredEvent]:
        with translated_errors("read"):
            days = [day] if day else self._partition_days(app_id, epoch)
            for name in days:
                rows = self._execute(self.statements.select_day, app_id, epoch, cql_date(name))
                yield from map(_from_row, rows)

    def scan(self, app_id: int, epoch: int, start_ms: int, end_ms: int) -> Iterator[ScanRow]:
        if end_ms <= start_ms:
            return
        first = cql_date(day_name(start_ms // MS_PER_DAY))
        last = cql_date(day_name((end_ms - 1) // MS_PER_DAY))
        with translated_errors("scan"):
            days = list(self._execute(self.statements.days_between, app_id, epoch, first, last))
            queries = [(app_id, epoch, day, start_ms, end_ms) for (day,) in days]
            rows = paged_rows(
                self._live_session(),
                self.statements.scan_day,
                queries,
                in_flight=SCAN_DAYS_IN_FLIGHT,
                page_timeout=self.request_timeout + 5,
            )
            yield from map(_scan_row, rows)

    def stage_visitors(self, app_id: int, epoch: int, stage: int) -> dict[str, int]:
        with translated_errors("stage entries"):
            return dict(self._execute(self.statements.select_stage, app_id, epoch, stage))

    def stage_visitors_many(
        self, app_id: int, epoch: int, stages: Iterable[int]
    ) -> dict[int, dict[str, int]]:
        """`stage_visitors` of several stages: one single-partition read per stage, all at
        once (what a funnel's distinct counts need)."""
        result: dict[int, dict[str, int]] = {stage: {} for stage in stages}
        with translated_errors("stage entries"):
            rows = paged_rows(
                self._live_session(),
                self.statements.select_stage_tagged,
                [(app_id, epoch, stage) for stage in result],
                in_flight=len(result) or 1,
                page_timeout=self.request_timeout + 5,
            )
            for stage, visitor, first_ts in rows:
                result[stage][visitor] = first_ts
        return result

    def count_events(self, app_id: int, epoch: int) -> int:
        with translated_errors("count"):
            days = self._partition_days(app_id, epoch)
            counts = self._run(
                ((self.statements.count_day, (app_id, epoch, cql_date(day))) for day in days),
                profile=LONG,
            )
        return sum(rows.one()[0] for rows in counts)

    def epochs(self, app_id: int) -> list[int]:
        with translated_errors("epochs"):
            return sorted({epoch for (epoch,) in self._execute(self.statements.epochs, app_id)})

    def ping(self) -> None:
        with translated_errors("ping"):
            list(self._execute(self.statements.epochs, 0))

    def close(self) -> None:
        self._closed = True
        self.cluster.shutdown()
