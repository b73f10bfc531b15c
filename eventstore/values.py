"""The event store's value types: what ingest hands over and what a read gives back.

Every event belongs to a partition `(app_id, epoch)` and, inside it, to the UTC day of its time
(`StoredEvent.day`). These types import nothing but the standard library.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from typing import NamedTuple

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
