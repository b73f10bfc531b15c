"""The event store interface: what ingest writes and insights read, whatever the backend.

Every row belongs to a partition `(app_id, epoch)`; backends lay their data out the way Cassandra
would: raw events per `(app, epoch, day)` ordered by time, funnel stage entries per
`(app, epoch, stage)`, and a small "last seen" row per `(app, epoch, visitor)` for sessionization.

Methods are synchronous: the store is driven by the write-behind thread (`writer.WriteBehind`)
and, from async code, through `asgiref.sync.sync_to_async` or a thread.
"""

from __future__ import annotations

import abc
import datetime
import functools
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .columns import Columns

MS_PER_DAY = 86_400_000

EventKey = tuple[int, int, str]
"""(app_id, epoch, event_id): the identity of an event."""


class StoreUnavailable(Exception):
    """The store is down or failed the operation; a failed `append` stored nothing.

    Appends are idempotent, so the caller may retry the same events later.
    """


@functools.lru_cache(maxsize=256)
def day_name(days_since_epoch: int) -> str:
    """'YYYY-MM-DD' of a day number (days since 1970-01-01, UTC)."""
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=days_since_epoch)).isoformat()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as the store keeps it (validated, enriched and attributed by ingest)."""

    app_id: int
    epoch: int
    event_id: str  # client UUID, lower-case
    ts: int  # epoch milliseconds (UTC)
    type: str  # pageview | click | element | event | leave
    visitor_id: str  # anonymous hash, hex
    session_id: str
    path: str = ""
    query: str = ""
    title: str = ""
    referrer: str = ""  # host, or internal path
    selector: str = ""
    name: str = ""
    action: str = ""
    duration_ms: int = 0
    props: dict | None = None
    browser: str = ""
    os: str = ""
    device: str = ""
    screen: int | None = None
    lang: str = ""
    campaign: str = ""
    utm: dict | None = None
    stages: tuple[int, ...] = ()  # 0-based funnel stage indexes this event reached

    @property
    def day(self) -> str:
        """The UTC day of `ts`, 'YYYY-MM-DD': the raw-event partition the event lives in."""
        return day_name(self.ts // MS_PER_DAY)

    @property
    def key(self) -> EventKey:
        return (self.app_id, self.epoch, self.event_id)


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What one `append` did, by event key: disjoint sets that together cover the call.

    `new_keys`: stored by this call. `duplicate_keys`: already stored before it (not stored
    again, not counted again). Both kinds are committed, so both may be acknowledged.
    """

    new_keys: frozenset[EventKey] = frozenset()
    duplicate_keys: frozenset[EventKey] = frozenset()

    @property
    def new_ids(self) -> frozenset[str]:
        return frozenset(key[2] for key in self.new_keys)

    @property
    def duplicate_ids(self) -> frozenset[str]:
        return frozenset(key[2] for key in self.duplicate_keys)

    @property
    def committed_ids(self) -> frozenset[str]:
        """Every id of the call: what an ack may list."""
        return self.new_ids | self.duplicate_ids


class ScanRow(NamedTuple):
    """The columns of an event the insights read (a light tuple: scans touch many rows)."""

    ts: int
    event_id: str
    type: str
    visitor_id: str
    session_id: str
    path: str
    referrer: str
    campaign: str
    browser: str
    os: str
    device: str
    name: str
    action: str
    duration_ms: int
    stages: tuple[int, ...]

    @classmethod
    def of(cls, event: StoredEvent) -> ScanRow:
        return cls(*(getattr(event, name) for name in cls._fields))


def days_between(start_ms: int, end_ms: int) -> list[str]:
    """The UTC day partitions that hold events with ts in [start_ms, end_ms)."""
    if end_ms <= start_ms:
        return []
    first, last = start_ms // MS_PER_DAY, (end_ms - 1) // MS_PER_DAY
    return [day_name(day) for day in range(first, last + 1)]


class EventStore(abc.ABC):
    """A backend of the event store. One instance serves a whole process, from any thread."""

    @classmethod
    def from_settings(cls) -> EventStore:
        """The store configured by Django settings (`get_store()` calls this)."""
        return cls()

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
        from .columns import Columns

        return Columns.from_rows(self.scan(app_id, epoch, start_ms, end_ms))

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

    @abc.abstractmethod
    def ping(self) -> None:
        """Return when the store answers; raise StoreUnavailable otherwise."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections. The instance is unusable afterwards."""
