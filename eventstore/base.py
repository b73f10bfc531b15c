"""The event store interface: what ingest writes and insights read, whatever the backend.

Every row belongs to a partition `(app_id, epoch)`; backends lay their data out the way Cassandra
would: raw events per `(app, epoch, day)` ordered by time, funnel stage entries per
`(app, epoch, stage)`, and a small "last seen" row per `(app, epoch, visitor)` for sessionization.

Methods are synchronous: the store is driven by the write-behind thread (`writer.WriteBehind`)
and, from async code, through `asgiref.sync.sync_to_async` or a thread.

Methods a backend implements
----------------------------
- `append(events)`: store new events and their derived rows, idempotently, all or nothing;
- `last_seen(app_id, epoch, visitor_ids)`: each visitor's latest session and time;
- `events(app_id, epoch, day=None)`: the raw events of a partition, in time order;
- `stage_visitors(app_id, epoch, stage)`: who first entered a funnel stage, and when;
- `count_events`, `epochs`, `delete_partition`, `ping`, `close`.

Methods a backend may override (the defaults are correct, only slower)
-----------------------------------------------------------------------
- `from_settings()`: build the store from Django settings;
- `scan`, `columns`: what insights read (default: built from `events`, day by day);
- `rollups`: small tables summarizing the range's events (default: computed from `columns`);
- `stage_visitors_many`, `stage_entry_counts`: several stages at once;
- `import_events`: large batches at once (default: `append` by groups);
- `import_columns`: the same, of a batch given by columns (`columns.EventBatch`; default:
  `import_events` of its events);
- `free_bytes` (and `bytes_per_event`): the disk space left, for commands that write a lot;
- `flush_pending`: deferred work the writer does when idle (default: none);
- `schema_migrate`, `schema_missing` (class methods): create or check what the backend needs
  outside its process (keyspaces, tables), for the operators' commands.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from .columns import Columns, EventBatch
from .rollups import Rollups, raw_columns, rollups_of_rows
from .values import AppendResult, EventKey, ScanRow, StoredEvent, days_between

IMPORT_GROUP = 500  # events per append when a backend imports by appending


@dataclass(frozen=True)
class ImportCounts:
    """What `import_columns` did: how many events it stored, and how many were stored
    already (not stored or counted again)."""

    new: int = 0
    duplicates: int = 0


@dataclass
class SchemaReport:
    """What `schema_migrate` did: what it created, and what it saw but left alone."""

    created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class EventStore(abc.ABC):
    """A backend of the event store. One instance serves a whole process, from any thread."""

    bytes_per_event = 0  # disk used per stored event, measured (0: not known)

    @classmethod
    def from_settings(cls) -> EventStore:
        """The store configured by Django settings (`get_store()` calls this)."""
        return cls()

    @classmethod
    def schema_migrate(cls, *, namespace: str | None = None) -> SchemaReport:
        """Create what the backend needs and is missing (in `namespace`, e.g. a keyspace,
        instead of the configured one). Safe to run again. Default: nothing to create (a
        backend that makes its schema when it opens)."""
        return SchemaReport()

    @classmethod
    def schema_missing(cls, *, namespace: str | None = None) -> list[str]:
        """What `schema_migrate` would create; empty when the store can open."""
        return []

    @abc.abstractmethod
    def append(self, events: Sequence[StoredEvent]) -> AppendResult:
        """Store events, in one transaction: all of them or, raising, none.

        Idempotent by (app_id, epoch, event_id): an event already stored is neither stored nor
        counted again (stage entries, last seen, counts). A re-sent event must carry the same
        `ts` as the first time: backends key raw events by time and find duplicates through
        that key. Only new events update stage entries (minimum first-entry ts per visitor)
        and last seen (latest ts per visitor). Events may span several partitions.
        Raises StoreUnavailable when nothing could be stored.
        """

    def import_events(self, events: Sequence[StoredEvent]) -> AppendResult:
        """Store a large batch (generated traffic, restored archives): `append`'s contract,
        for batches far larger than ingest's. Default: `append` by groups of IMPORT_GROUP."""
        new: set[EventKey] = set()
        duplicate: set[EventKey] = set()
        for start in range(0, len(events), IMPORT_GROUP):
            result = self.append(events[start : start + IMPORT_GROUP])
            new |= result.new_keys
            duplicate |= result.duplicate_keys
        return AppendResult(new_keys=frozenset(new), duplicate_keys=frozenset(duplicate - new))

    def import_columns(self, batch: EventBatch) -> ImportCounts:
        """`import_events` of a batch given by columns (generated traffic): the same contract
        and the same stored data, counted instead of listed. Backends with a bulk path override
        it; the default imports the batch's events."""
        result = self.import_events(batch.events())
        return ImportCounts(len(result.new_keys), len(result.duplicate_keys))

    @abc.abstractmethod
    def last_seen(
        self, app_id: int, epoch: int, visitor_ids: Collection[str]
    ) -> dict[str, tuple[str, int]]:
        """visitor_id -> (session_id, ts) of that visitor's latest stored event.

        Visitors never seen in the partition are absent from the result.
        """

    @abc.abstractmethod
    def events(self, app_id: int, epoch: int, *, day: str | None = None) -> Iterator[StoredEvent]:
        """The raw events of a partition (or of one of its days), ordered by (ts, event_id).

        Reads in pages: meant for tests, archiving and brute-force references, not for
        dashboards.
        """

    def scan(self, app_id: int, epoch: int, start_ms: int, end_ms: int) -> Iterator[ScanRow]:
        """The events of the partition with ts in [start_ms, end_ms), day partition by day
        partition (never a scan across the whole partition), in no particular order."""
        for day in days_between(start_ms, end_ms):
            for event in self.events(app_id, epoch, day=day):
                if start_ms <= event.ts < end_ms:
                    yield ScanRow.of(event)

    def columns(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str] = ()
    ) -> Columns:
        """The events of `scan`, by columns, ordered by (ts, event_id): what insights read.

        `names`: the columns the caller reads (`columns.ARRAYS`; none: all); a backend may
        leave the others out. Backends that keep their events by columns at write time
        override this; the default builds every column from `scan`."""
        return Columns.from_rows(self.scan(app_id, epoch, start_ms, end_ms))

    def rollups(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str]
    ) -> Rollups:
        """The rollups (`rollups.TABLES`) of the range's events, with the columns `names`
        read: what unfiltered insights read. Backends that keep rollups of their column parts
        override this; the default computes them from `columns`."""
        rows = self.columns(app_id, epoch, start_ms, end_ms, raw_columns(names))
        return rollups_of_rows(rows).read(names)

    def flush_pending(self, limit: int = 20_000) -> int:
        """Do up to `limit` events' worth of deferred work (derived columns); return how much
        was done, 0 when nothing is left. Answers never depend on it: it only makes reads
        cheaper. The writer calls it when idle. Backends with no deferred work return 0."""
        return 0

    @abc.abstractmethod
    def stage_visitors(self, app_id: int, epoch: int, stage: int) -> dict[str, int]:
        """visitor_id -> ts of their first entry into funnel stage `stage` (0-based)."""

    def stage_visitors_many(
        self, app_id: int, epoch: int, stages: Iterable[int]
    ) -> dict[int, dict[str, int]]:
        """`stage_visitors` of several stages (one single-partition read per stage); backends
        may run them concurrently."""
        return {stage: self.stage_visitors(app_id, epoch, stage) for stage in stages}

    def stage_entry_counts(
        self, app_id: int, epoch: int, stages: Iterable[int], start_ms: int, end_ms: int
    ) -> dict[int, int]:
        """Per stage, how many visitors first entered it with ts in [start_ms, end_ms)."""
        entries = self.stage_visitors_many(app_id, epoch, stages)
        return {
            stage: sum(1 for first in visitors.values() if start_ms <= first < end_ms)
            for stage, visitors in entries.items()
        }

    @abc.abstractmethod
    def count_events(self, app_id: int, epoch: int) -> int:
        """The number of distinct events stored in the partition."""

    @abc.abstractmethod
    def epochs(self, app_id: int) -> list[int]:
        """The epochs of an app that hold events, ascending."""

    @abc.abstractmethod
    def delete_partition(self, app_id: int, epoch: int) -> int:
        """Delete everything of a partition; return how many events were deleted.

        May run in several transactions (so that ingest is not blocked meanwhile); if it is
        interrupted, calling it again finishes the job.
        """

    def free_bytes(self) -> int | None:
        """Free disk space where this store writes; None when it cannot tell (a cluster)."""
        return None

    @abc.abstractmethod
    def ping(self) -> None:
        """Return when the store answers; raise StoreUnavailable otherwise."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The instance is unusable afterwards."""
