"""Stage entries and last seen: rows derived from events, exact without transactions.

Both tables only ever get rows added, and a read takes the extreme in clustering order:
- `stage_entries_by_week`: a row (visitor, ts) in the partition of the week of ts. A visitor's
  first entry is their smallest ts over the weeks (`stage_visitors` takes, per visitor, the
  first row of each week, clustering order (visitor_id, first_ts), and the minimum of those).
  An append reads the batch's visitors in the weeks it writes to (in the store's read round)
  and writes only rows that lower what is there.
- `visitor_visits`: a row (last_ts, session_id) per visitor and append, clustering order
  newest first: `last_seen` reads the first row. A tie on ts goes to the greater session id.
Two processes writing the same visitor at once add both rows; the minimum and the maximum are
what a read finds, whoever wrote last. Rewriting a row (a retried append, a duplicate whose first
append died half way) writes the same key again: nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..values import StoredEvent
from .buckets import week_of

IN_CHUNK = 100  # visitors per `visitor_id IN ?` read
_MIN_TS = -(2**63)


@dataclass
class Current:
    """The stage entries read before writing: (app_id, epoch, stage, week, visitor_id) ->
    the smallest first_ts found in that week (absent: no row)."""

    first_ts: dict[tuple, int] = field(default_factory=dict)


def first_entries(events: Iterable[StoredEvent]) -> dict[tuple, int]:
    """(app_id, epoch, stage, week, visitor_id) -> the earliest ts among these events."""
    first: dict[tuple, int] = {}
    for event in events:
        if not event.stages:
            continue
        week = week_of(event.ts)
        for stage in event.stages:
            key = (event.app_id, event.epoch, stage, week, event.visitor_id)
            if event.ts < first.get(key, event.ts + 1):
                first[key] = event.ts
    return first


def latest_visits(events: Iterable[StoredEvent]) -> dict[tuple, tuple[int, str]]:
    """(app_id, epoch, visitor_id) -> (ts, session_id) of the latest of these events."""
    latest: dict[tuple, tuple[int, str]] = {}
    for event in events:
        key = (event.app_id, event.epoch, event.visitor_id)
        if (event.ts, event.session_id) > latest.get(key, (_MIN_TS, "")):
            latest[key] = (event.ts, event.session_id)
    return latest


class DerivedRows:
    def __init__(self, statements) -> None:
        self.statements = statements

    def index_rows(self, events: Sequence[StoredEvent]) -> list[tuple]:
        """The stage-week index inserts of these events (idempotent; written before any stage
        entry)."""
        weeks = {(e.app_id, e.epoch, stage, week_of(e.ts)) for e in events for stage in e.stages}
        return [(self.statements.index_stage_week, key) for key in weeks]

    def reads(self, events: Sequence[StoredEvent]) -> list[tuple]:
        """The reads of the stage entries these events may lower (to run with others)."""
        by_partition: dict[tuple, list[str]] = defaultdict(list)
        for app_id, epoch, stage, week, visitor in first_entries(events):
            by_partition[(app_id, epoch, stage, week)].append(visitor)
        return [
            (self.statements.read_stage_entries, (*partition, visitors[i : i + IN_CHUNK]))
            for partition, visitors in by_partition.items()
            for i in range(0, len(visitors), IN_CHUNK)
        ]

    @staticmethod
    def current(calls: list[tuple], results: list) -> Current:
        """The rows found by the `reads` calls."""
        current = Current()
        for (_, params), rows in zip(calls, results, strict=True):
            for visitor, ts in rows:
                key = (*params[:4], visitor)
                if ts < current.first_ts.get(key, ts + 1):
                    current.first_ts[key] = ts
        return current

    def writes(self, events: Sequence[StoredEvent], current: Current) -> list[tuple]:
        """The stage-entry rows that lower what `current` shows, and a visit row per visitor
        (statement, parameters) calls, for one round with the raw rows."""
        st = self.statements
        calls = [
            (st.insert_stage_entry, (*key, ts))
            for key, ts in first_entries(events).items()
            if ts < current.first_ts.get(key, ts + 1)
        ]
        calls += [
            (st.insert_visit, (*key, ts, session_id))
            for key, (ts, session_id) in latest_visits(events).items()
        ]
        return calls
