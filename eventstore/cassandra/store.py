"""The event store on an Apache Cassandra cluster (data model: docs/cassandra-data-model.md).

How `append` stays exact without multi-partition transactions, whatever is re-sent or retried:
1. Every statement is bound first: bad data fails before anything is written.
2. One round of reads: the batch's keys in their hour partitions (`ts IN ?`: a re-sent event
   carries the same ts and id) give the duplicates, as stored; the stage entries of its
   visitors in the weeks it writes to. Meanwhile the index rows (hours, stage weeks) and the
   build queue items of its slots are written (idempotent).
3. One round of writes: raw rows of the new events, stage entries that lower a visitor's first
   entry, a visit row per visitor (`derived.py`), computed from the new events and from the
   duplicates as stored. No lightweight transaction: minimum and maximum are kept by
   clustering order, so concurrent writers add rows and readers take the extreme.
   In each round the derived writes of one partition (a stage week's entries, an app's index
   rows or markers) go in one unlogged batch: one mutation per replica (`by_partition`).
4. Only for events of slots already sealed (late events, imports of past days): a marker per
   slot and its build queue item, written once the raw rows are stored (`buckets.py`).
For a duplicate this rewrites the same rows unless an earlier append died half way: the retry
repairs it. Nothing acked is lost, nothing counts twice. No counter anywhere.

Insights read column parts (`reading.py`), built by any process from sealed slots
(`sealing.py`: `flush_pending`, the writer's idle work), plus the raw rows of what no part
holds yet: answers are exact and never lag.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence

import orjson
from cassandra.cluster import EXEC_PROFILE_DEFAULT
from cassandra.query import UNSET_VALUE
from django.core.exceptions import ImproperlyConfigured

from ..base import EventStore, ImportCounts, SchemaReport
from ..columns import ARRAYS, Columns, EventBatch
from ..rollups import Rollups
from ..values import MS_PER_DAY, AppendResult, ScanRow, StoredEvent, StoreUnavailable
from . import bulk, legacy, schema
from .buckets import DAY, HOUR_MS, MARK, SKEW_MS, SLOT, day_of, hour_of, late, slot_of
from .connection import (
    LONG,
    REQUEST_TIMEOUT,
    by_partition,
    connect,
    paged_rows,
    run_all,
    translated_errors,
)
from .derived import Current, DerivedRows
from .parts import ROLLUP
from .reading import PartCache, PartReader
from .sealing import Builder, queue_key, queue_partitions, queued_by_append, shard_of
from .statements import COLUMNS, JSON_COLUMNS, Statements, event_of_row, scan_row
from .summaries import Summaries

logger = logging.getLogger(__name__)

IMPORT_GROUP = 500  # events per append of an import, as the writer groups them
IMPORT_APPENDS = 4  # appends of an import in flight at once

CONCURRENCY = 64  # requests in flight per call
IN_CHUNK = 100  # keys per `IN ?` read
SCAN_HOURS_IN_FLIGHT = 8  # hour partitions read at once by scan()
PART_CACHE_BYTES = 256 << 20  # decoded column part columns kept in memory (reading.PartCache)
SUMMARY_CACHE_BYTES = 1 << 30  # rollups of day parts kept in memory (summaries.SummaryCache)

_JSON_INDEXES = tuple(COLUMNS.index(name) for name in JSON_COLUMNS)
_STAGES = COLUMNS.index("stages")
_ONE_REPLICA_LEVELS = ("ONE", "LOCAL_ONE", "ANY")
_EPOCH_DATE = datetime.date(1970, 1, 1)


def insert_values(event: StoredEvent) -> list:
    """The values of `insert_event`: hour, then the event's columns (None left unset: a null
    would write a tombstone)."""
    values = [getattr(event, name) for name in COLUMNS]
    for index in _JSON_INDEXES:
        if values[index] is not None:
            values[index] = orjson.dumps(values[index]).decode()
    values[_STAGES] = list(event.stages) or None
    return [hour_of(event.ts), *(UNSET_VALUE if v is None else v for v in values)]


def _chunks(items: list, size: int = IN_CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class CassandraEventStore(EventStore):
    """The event store on a Cassandra cluster, shared by any number of server processes.

    `skew_ms`: how far apart the clocks of the processes sharing the keyspace may be (it
    delays building the parts of late events by as much); `clock`: the time in ms (tests);
    `check_migrated`: refuse a keyspace whose previous-schema data is not moved yet;
    `part_cache_bytes`: decoded column part columns kept in memory (0: none);
    `summary_cache_bytes`: rollups of day parts kept in memory (0: none)."""

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
        skew_ms: int = SKEW_MS,
        clock: Callable[[], int] = _wall_clock_ms,
        check_migrated: bool = True,
        part_cache_bytes: int = PART_CACHE_BYTES,
        summary_cache_bytes: int = SUMMARY_CACHE_BYTES,
    ) -> None:
        self.keyspace = schema.check_keyspace_name(keyspace)
        self.concurrency = concurrency
        self.request_timeout = request_timeout
        self.skew_ms = skew_ms
        self.now_ms = clock
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
            self._check_schema(check_migrated)
            with translated_errors("preparing statements"):
                self.statements = Statements(self.session, self.keyspace)
        except BaseException:
            self.cluster.shutdown()
            raise
        self.derived = DerivedRows(self.statements)
        self.part_cache = PartCache(part_cache_bytes)
        self.reader = PartReader(self)
        self.builder = Builder(self)
        self.pending_parts = bulk.PendingParts()
        self.summaries = Summaries(self, summary_cache_bytes)

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
        """Create the keyspace (with the configured replication) and the tables it lacks, then
        move the data of a previous schema's tables, if any (once)."""
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
        legacy.migrate(cls._migration_store(keyspace), report)
        return report

    @classmethod
    def schema_missing(cls, *, namespace: str | None = None) -> list[str]:
        keyspace, _ = cls._schema_target(namespace)
        with cls._admin_session() as (cluster, session):
            return schema.missing_schema(cluster, keyspace) or legacy.unmigrated(session, keyspace)

    @staticmethod
    def _schema_target(namespace: str | None) -> tuple[str, dict]:
        from django.conf import settings

        config = settings.CASSANDRA
        keyspace = schema.check_keyspace_name(namespace or config["keyspace"])
        return keyspace, schema.parse_replication(config["replication"])

    @classmethod
    def _migration_store(cls, keyspace: str) -> Callable[[], CassandraEventStore]:
        from django.conf import settings

        config = settings.CASSANDRA

        def build() -> CassandraEventStore:
            return cls(
                hosts=config["hosts"],
                port=config["port"],
                keyspace=keyspace,
                local_dc=config["local_dc"],
                consistency=config["consistency"],
                check_migrated=False,
            )

        return build

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

    def _check_schema(self, check_migrated: bool) -> None:
        missing = schema.missing_schema(self.cluster, self.keyspace)
        if check_migrated and not missing:
            missing = legacy.unmigrated(self.session, self.keyspace)
        if missing:
            shown = ", ".join(missing[:4]) + (", ..." if len(missing) > 4 else "")
            raise ImproperlyConfigured(
                f"the Cassandra event store's schema is not ready (missing {shown}): "
                "run `python manage.py cassandra_migrate` with the same DATALAB_CASSANDRA_* "
                "settings, then start again"
            )

    def _run(
        self, calls: Iterable[tuple], *, limit: int | None = None, profile=EXEC_PROFILE_DEFAULT
    ) -> list:
        return run_all(
            self._live_session(), calls, limit=limit or self.concurrency, profile=profile
        )

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
            new, calls = [], []
            for event, statement in zip(unique, bound, strict=True):
                if (event.app_id, event.epoch, event.ts, event.event_id) not in stored:
                    new.append(event)
                    calls.append((statement, None))
            # Raw rows and derived rows in one round. The duplicates' derived rows too, from
            # what is stored: the same rows again, unless an earlier append failed after
            # writing their raw rows but not all their derived rows.
            # The derived rows in one unlogged batch per partition (a stage week's entries, an
            # app's markers): one mutation each on the replicas, not one per row.
            calls += by_partition(self.derived.writes([*stored.values(), *new], current))
            self._run(calls)
            self._mark_late(unique)
        self.builder.wake()
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

    def import_columns(self, batch: EventBatch) -> ImportCounts:
        """Raw and derived rows written from the columns, slot parts built from them
        (`bulk.py`); a batch with events stored already goes through `import_events`."""
        with translated_errors("import"):
            return bulk.import_columns(self, batch)

    def _read_before_write(
        self, events: list[StoredEvent]
    ) -> tuple[dict[tuple, StoredEvent], Current]:
        """In one round trip: the events already stored (by (app_id, epoch, ts, event_id), as
        stored: visitor, session, stages), and the stage entries the batch may lower. The
        index rows and build queue items of the batch are written meanwhile (idempotent)."""
        stamps: dict[tuple, set[int]] = defaultdict(set)
        for event in events:
            stamps[(event.app_id, event.epoch, hour_of(event.ts))].add(event.ts)
        key_calls = [
            (self.statements.find_keys, (*hour, chunk))
            for hour, times in stamps.items()
            for chunk in _chunks(sorted(times))
        ]
        derived_calls = self.derived.reads(events)
        now = self.now_ms()
        slots = {(e.app_id, e.epoch, slot_of(e.ts)) for e in events}
        on_time = [
            (app, epoch, slot) for app, epoch, slot in slots if not late(slot, now, self.skew_ms)
        ]
        queued = [
            (self.statements.enqueue, (*queue_key(*bucket), now * 1000))
            for bucket in queued_by_append(on_time, now)
        ]
        index = [(self.statements.index_hour, hour) for hour in stamps]
        index += self.derived.index_rows(events)
        results = self._run(key_calls + derived_calls + by_partition(index + queued))
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

    def _mark_late(self, events: Sequence[StoredEvent]) -> None:
        """After the raw rows are stored: mark and queue the slots that are sealed already
        (their parts, if any, do not hold these events)."""
        now = self.now_ms()
        slots = {
            (e.app_id, e.epoch, slot_of(e.ts))
            for e in events
            if late(slot_of(e.ts), now, self.skew_ms)
        }
        if not slots:
            return
        st, written = self.statements, now * 1000
        self._run(
            by_partition(
                [
                    (st.insert_part, (app, epoch, slot, MARK, b"", written))
                    for app, epoch, slot in slots
                ]
                + [
                    (st.enqueue, (*queue_key(*bucket), written))
                    for bucket in queued_by_append(slots, now)
                ]
            )
        )

    def flush_pending(self, limit: int = 20_000) -> int:
        """Build the column parts of sealed slots and days (any process may: see sealing.py)."""
        with translated_errors("building column parts"):
            return bulk.write_ready(self) + self.builder.flush(limit)

    def delete_partition(self, app_id: int, epoch: int) -> int:
        st = self.statements
        with translated_errors("delete"):
            hours = self._partition_hours(app_id, epoch)
            weeks = list(self._execute(st.all_stage_weeks, app_id, epoch))
            self._run((st.delete_stage_week, (app_id, epoch, *key)) for key in weeks)
            self._run((st.unindex_stage_week, (app_id, epoch, *key)) for key in weeks)
            self._run([(st.delete_parts, (self.now_ms() * 1000, app_id, epoch))])
            days = sorted({day_of(hour * HOUR_MS) for hour in hours})
            self._run(
                [
                    (st.delete_column_day, (app_id, epoch, day, name, level))
                    for day in days
                    for name in ARRAYS
                    for level in (SLOT, DAY)
                ]
                + [(st.delete_column_day, (app_id, epoch, day, ROLLUP, DAY)) for day in days]
            )
            self._run(
                (st.dequeue_partition, (shard_of(app_id), partition, app_id, epoch))
                for partition in queue_partitions(self.now_ms())
            )
            return sum(self._delete_hour(app_id, epoch, hour) for hour in hours)

    def _delete_hour(self, app_id: int, epoch: int, hour: int) -> int:
        """One hour partition, its visitors' visit rows first, its index row last."""
        key = (app_id, epoch, hour)
        visitors = [visitor for (visitor,) in self._execute(self.statements.visitors_of_hour, *key)]
        self._run(
            (self.statements.delete_visits, (app_id, epoch, visitor)) for visitor in set(visitors)
        )
        self._run([(self.statements.delete_hour, key)])
        self._run([(self.statements.unindex_hour, key)])
        return len(visitors)

    # -- reads -------------------------------------------------------------------------------

    def _live_session(self):
        if self._closed:
            raise StoreUnavailable("event store (Cassandra) is closed")
        return self.session

    def _execute(self, statement, *params) -> Iterator[tuple]:
        """The rows of one single-partition read, fetched page by page as they are consumed."""
        yield from self._live_session().execute(statement, params)

    def _partition_hours(self, app_id: int, epoch: int) -> list[int]:
        return [hour for (hour,) in self._execute(self.statements.hours, app_id, epoch)]

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
            if day is None:
                hours = self._partition_hours(app_id, epoch)
            else:
                first = hour_of(day_of_name(day) * MS_PER_DAY)
                params = (app_id, epoch, first, first + 23)
                hours = [hour for (hour,) in self._execute(self.statements.hours_between, *params)]
            for hour in hours:
                rows = self._execute(self.statements.select_hour, app_id, epoch, hour)
                yield from map(event_of_row, rows)

    def scan(self, app_id: int, epoch: int, start_ms: int, end_ms: int) -> Iterator[ScanRow]:
        if end_ms <= start_ms:
            return
        with translated_errors("scan"):
            params = (app_id, epoch, hour_of(start_ms), hour_of(end_ms - 1))
            hours = list(self._execute(self.statements.hours_between, *params))
            queries = [(app_id, epoch, hour, start_ms, end_ms) for (hour,) in hours]
            rows = paged_rows(
                self._live_session(),
                self.statements.scan_hour,
                queries,
                in_flight=SCAN_HOURS_IN_FLIGHT,
                page_timeout=self.request_timeout + 5,
            )
            yield from map(scan_row, rows)

    def columns(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str] = ()
    ) -> Columns:
        """The range's events by columns: sealed column parts and the raw rows of the rest
        (`reading.py`); columns not in `names` are not read."""
        if end_ms <= start_ms:
            return Columns.empty()
        with translated_errors("columns"):
            return self.reader.columns(app_id, epoch, start_ms, end_ms, tuple(names))

    def rollups(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str]
    ) -> Rollups:
        """Merged from the day parts' rollups (kept per process) and the edges' (`summaries`)."""
        if end_ms <= start_ms:
            return Rollups([])
        with translated_errors("rollups"):
            return self.summaries.rollups(app_id, epoch, start_ms, end_ms, names)

    def stage_entry_counts(
        self, app_id: int, epoch: int, stages: Iterable[int], start_ms: int, end_ms: int
    ) -> dict[int, int]:
        """From the rollups' funnel hits (`summaries`), not the stage entry rows."""
        with translated_errors("stage entry counts"):
            counts = self.summaries.stage_entry_counts(app_id, epoch, stages, start_ms, end_ms)
        if counts is None:
            return super().stage_entry_counts(app_id, epoch, stages, start_ms, end_ms)
        return counts

    def stage_visitors(self, app_id: int, epoch: int, stage: int) -> dict[str, int]:
        return self.stage_visitors_many(app_id, epoch, [stage])[stage]

    def stage_visitors_many(
        self, app_id: int, epoch: int, stages: Iterable[int]
    ) -> dict[int, dict[str, int]]:
        """Each stage's visitors and first entries: every week partition of the stages, read
        at once; per visitor, the smallest first_ts over the weeks."""
        result: dict[int, dict[str, int]] = {stage: {} for stage in stages}
        with translated_errors("stage entries"):
            weeks = [
                (app_id, epoch, stage, week)
                for stage, week in self._execute(self.statements.all_stage_weeks, app_id, epoch)
                if stage in result
            ]
            rows = paged_rows(
                self._live_session(),
                self.statements.select_stage_week,
                weeks,
                in_flight=min(len(weeks), 32) or 1,
                page_timeout=self.request_timeout + 5,
            )
            for stage, visitor, first_ts in rows:
                entries = result[stage]
                if first_ts < entries.get(visitor, first_ts + 1):
                    entries[visitor] = first_ts
        return result

    def count_events(self, app_id: int, epoch: int) -> int:
        with translated_errors("count"):
            hours = self._partition_hours(app_id, epoch)
            counts = self._run(
                ((self.statements.count_hour, (app_id, epoch, hour)) for hour in hours),
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


def day_of_name(day: str) -> int:
    """'YYYY-MM-DD' -> days since 1970."""
    return (datetime.date.fromisoformat(day) - _EPOCH_DATE).days
