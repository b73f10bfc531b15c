"""Stage entries and last seen: the rows derived from events, kept exact by compare-and-set.

Stage entries keep the minimum first-entry ts per visitor, last seen the maximum ts. Both are
written by lightweight transactions (`INSERT ... IF NOT EXISTS`, or `UPDATE ... IF first_ts > ?`
/ `IF last_ts <= ?`), so that two processes writing the same visitor at once still end on the
exact minimum and maximum, and so that writing them again (a retried append, a duplicate whose
first append died half way) changes nothing. The current rows are read first, in the store's
read round: a row that already wins costs no transaction (a returning visitor's earlier stage
entry, a duplicate, a late event's last seen), and the first transaction is the right one
(insert or update) nearly always. Transactions on one partition contend (Paxos runs per
partition): at most `PER_STAGE_PARTITION` of a stage partition are in flight at once; last-seen
partitions hold one visitor each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ..values import StoredEvent, StoreUnavailable
from .connection import run_all
from .statements import cql_date

PER_STAGE_PARTITION = 16  # compare-and-sets in flight on one stage partition
MAX_ATTEMPTS = 10  # compare-and-sets of one row in one append, before giving up (contention)
IN_CHUNK = 100  # visitors per `visitor_id IN ?` read
_MIN_TS = -(2**63)

# A write: (kind, key, value, attempt). key is (app_id, epoch, stage, visitor_id) for stage
# entries, (app_id, epoch, visitor_id) for last seen; value is the ts, or (ts, session_id) for
# last seen. Kind "plain": value is a (statement, parameters) call run as is (raw rows).
Op = tuple


@dataclass
class Current:
    """The stage entries and last-seen rows read before writing (absent: no row)."""

    first_ts: dict[tuple, int] = field(default_factory=dict)
    last: dict[tuple, tuple[int, str]] = field(default_factory=dict)  # -> (last_ts, session_id)


def first_entries(events: Iterable[StoredEvent]) -> dict[tuple, int]:
    """(app_id, epoch, stage, visitor_id) -> the earliest ts among these events."""
    first: dict[tuple, int] = {}
    for event in events:
        for stage in event.stages:
            key = (event.app_id, event.epoch, stage, event.visitor_id)
            if event.ts < first.get(key, event.ts + 1):
                first[key] = event.ts
    return first


def latest_visits(events: Iterable[StoredEvent]) -> dict[tuple, tuple[int, str]]:
    """(app_id, epoch, visitor_id) -> (ts, session_id) of the latest of these events (on a tie,
    the later in the sequence, as SQLite's upsert does)."""
    latest: dict[tuple, tuple[int, str]] = {}
    for event in events:
        key = (event.app_id, event.epoch, event.visitor_id)
        if event.ts >= latest.get(key, (_MIN_TS, ""))[0]:
            latest[key] = (event.ts, event.session_id)
    return latest


class DerivedRows:
    def __init__(self, session, statements, *, concurrency: int) -> None:
        self.session = session
        self.statements = statements
        self.concurrency = concurrency

    def index_rows(self, events: Sequence[StoredEvent]) -> list[tuple]:
        """The partition index inserts of these events: which days and stages the partition
        has (idempotent; written before any raw row or stage entry)."""
        st = self.statements
        days = {(e.app_id, e.epoch, e.day) for e in events}
        stages = {(e.app_id, e.epoch, stage) for e in events for stage in e.stages}
        return [(st.index_day, (app, epoch, cql_date(day))) for app, epoch, day in days] + [
            (st.index_stage, key) for key in stages
        ]

    def reads(self, events: Sequence[StoredEvent]) -> list[tuple]:
        """The reads of the current rows these events may change (to run with others)."""
        by_partition: dict[tuple, list[str]] = defaultdict(list)
        for app_id, epoch, stage, visitor in first_entries(events):
            by_partition[(app_id, epoch, stage)].append(visitor)
        calls = [
            (self.statements.read_stage_entries, (*partition, visitors[i : i + IN_CHUNK]))
            for partition, visitors in by_partition.items()
            for i in range(0, len(visitors), IN_CHUNK)
        ]
        visitors = {(e.app_id, e.epoch, e.visitor_id) for e in events}
        return calls + [(self.statements.select_last, key) for key in visitors]

    def current(self, calls: list[tuple], results: list) -> Current:
        """The rows found by the `reads` calls."""
        current = Current()
        for (statement, params), rows in zip(calls, results, strict=True):
            if statement is self.statements.read_stage_entries:
                current.first_ts.update({(*params[:3], visitor): ts for visitor, ts in rows})
            else:
                row = rows.one()
                if row is not None:
                    current.last[params] = (row[1], row[0])
        return current

    def write(
        self, events: Sequence[StoredEvent], current: Current, *, also: Sequence[tuple] = ()
    ) -> None:
        """Bring the stage entries and last-seen rows up to these events, given the rows read
        before (`current`), in one round of writes with the `also` calls (a second round only
        under races). Writes nothing for what `current` shows already done."""
        ops: list[Op] = [("plain", None, call, 1) for call in also]
        for key, ts in first_entries(events).items():
            known = current.first_ts.get(key)
            if known is None:
                ops.append(("insert_stage", key, ts, 1))
            elif known > ts:
                ops.append(("lower_stage", key, ts, 1))
        for key, (ts, session_id) in latest_visits(events).items():
            known = current.last.get(key)
            if known is None:
                ops.append(("insert_last", key, (ts, session_id), 1))
            elif known[0] < ts or (known[0] == ts and known[1] != session_id):
                ops.append(("raise_last", key, (ts, session_id), 1))
        self._run_rounds(ops)

    def _run_rounds(self, ops: list[Op]) -> None:
        """Run writes in rounds, each queueing the follow-ups its results call for (an insert
        that found a row becomes an update, and the other way round)."""
        queued = ops
        while queued:
            now, queued = _limit_per_stage_partition(queued)
            calls = [self._call(op) for op in now]
            results = run_all(self.session, calls, limit=self.concurrency)
            follow_ups = (_next(op, rs) for op, rs in zip(now, results, strict=True))
            queued += [op for op in follow_ups if op is not None]

    def _call(self, op: Op) -> tuple:
        kind, key, value, _ = op
        st = self.statements
        if kind == "plain":
            return value
        if kind == "insert_stage":
            return st.insert_stage_entry, (*key, value)
        if kind == "lower_stage":
            return st.lower_stage_entry, (value, *key, value)
        ts, session_id = value
        if kind == "insert_last":
            return st.insert_last, (*key, session_id, ts)
        return st.raise_last, (session_id, ts, *key, ts)


def _limit_per_stage_partition(ops: list[Op]) -> tuple[list[Op], list[Op]]:
    now, later, in_flight = [], [], defaultdict(int)
    for op in ops:
        kind, key, _, _ = op
        if kind in ("insert_stage", "lower_stage"):
            if in_flight[key[:3]] >= PER_STAGE_PARTITION:
                later.append(op)
                continue
            in_flight[key[:3]] += 1
        now.append(op)
    return now, later


def _next(op: Op, result) -> Op | None:
    """The follow-up of a compare-and-set that was not applied; None when settled."""
    kind, key, value, attempt = op
    if kind == "plain":
        return None
    row = result.one()
    if row[0]:  # [applied]
        return None
    if attempt >= MAX_ATTEMPTS:
        raise StoreUnavailable(f"event store (Cassandra): {kind} {key} did not settle")
    current = dict(zip(result.column_names, row, strict=True))
    if kind in ("insert_stage", "lower_stage"):
        first_ts = current.get("first_ts")
        if first_ts is None:  # no row (deleted meanwhile): insert it
            return ("insert_stage", key, value, attempt + 1)
        return ("lower_stage", key, value, attempt + 1) if first_ts > value else None
    last_ts = current.get("last_ts")
    if last_ts is None:
        return ("insert_last", key, value, attempt + 1)
    return ("raise_last", key, value, attempt + 1) if last_ts <= value[0] else None
