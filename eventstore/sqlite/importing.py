"""Imports into the SQLite store (`import_events`): the work a batch needs done before the write
lock is taken, so that the lock is held only to write.

Before the lock: the raw rows, and each (app, epoch, day)'s level-0 column part encoded with
provisional visitor and session codes (this batch's own, 0 to N-1 in order of first sight).
Under the lock: the partition's real codes are looked up (or assigned) for the batch's distinct
values only, and the part's two coded columns remapped with one numpy take each.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from operator import attrgetter

import numpy as np

from ..columns import GLOBAL, Part, encode_part
from ..values import MS_PER_DAY, EventKey, StoredEvent, day_name
from .codes import assign_codes
from .parts import compact, store_part
from .schema import SELECT_KEYS, to_row, translated_errors

_KEY = attrgetter("app_id", "epoch", "event_id")  # StoredEvent.key, at C speed
_TS = attrgetter("ts")
AUTOCHECKPOINT = 1000  # SQLite's default: WAL pages before a commit checkpoints

# (app_id, epoch) -> (incarnation, {kind: {value: code}} known to be committed)
KnownCodes = Callable[[sqlite3.Connection, tuple[int, int]], tuple[int, dict]]


class PreparedImport:
    """A batch of events ready to be written: unique by key, their rows, and their column
    parts with provisional codes (see the module docstring)."""

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        unique = dict(zip(map(_KEY, events), events, strict=True))  # the last of each key
        self.events = list(unique.values())
        self.keys = frozenset(unique)
        self.rows = [to_row(event) for event in self.events]  # bad data fails here
        by_day: dict[tuple[int, int, int], list[StoredEvent]] = defaultdict(list)
        for event in self.events:
            by_day[(event.app_id, event.epoch, event.ts // MS_PER_DAY)].append(event)
        self.parts = [_ProvisionalPart(key, group) for key, group in by_day.items()]

    def stored_keys(self, conn: sqlite3.Connection) -> set[EventKey]:
        """The keys of the batch that are stored already (one range read per day)."""
        stored: set[EventKey] = set()
        for part in self.parts:
            app_id, epoch, day = part.key
            bounds = (day_name(day), part.part.first_ts, part.last_ts)
            rows = conn.execute(SELECT_KEYS, (app_id, epoch, *bounds))
            stored.update((app_id, epoch, event_id) for (event_id,) in rows)
        return stored

    def store_parts(self, conn: sqlite3.Connection, known: KnownCodes) -> dict:
        """Store the parts with the partitions' codes (call it under the write lock); return
        the codes looked up or assigned, by partition: {(app_id, epoch): (incarnation,
        {kind: {value: code}})}, to remember once committed."""
        learned, cached = {}, {}
        for part in self.parts:
            partition = part.key[:2]
            if partition not in learned:
                incarnation, cached[partition] = known(conn, partition)
                learned[partition] = (incarnation, {kind: {} for kind in GLOBAL})
            part.store(conn, cached[partition], learned[partition][1])
        return learned


class _ProvisionalPart:
    """One day's level-0 part, its `GLOBAL` columns coded by position in `values`."""

    def __init__(self, key: tuple[int, int, int], events: list[StoredEvent]) -> None:
        self.key = key
        self.values = {kind: list(dict.fromkeys(map(attrgetter(kind), events))) for kind in GLOBAL}
        provisional = {kind: {v: i for i, v in enumerate(self.values[kind])} for kind in GLOBAL}
        self.part: Part = encode_part(events, provisional)
        self.last_ts = max(map(_TS, events))

    def store(self, conn: sqlite3.Connection, cached: dict, learned: dict) -> None:
        app_id, epoch, day = self.key
        for kind in GLOBAL:
            values, known = self.values[kind], cached.get(kind, {})
            missing = {value for value in values if value not in known}
            found = assign_codes(conn, app_id, epoch, kind, missing) if missing else {}
            learned[kind].update(found)
            real = np.array([found[v] if v in found else known[v] for v in values], dtype=np.int32)
            provisional = np.frombuffer(self.part.data[kind], dtype=np.int32)
            self.part.data[kind] = real[provisional].tobytes()
            self.part.top[kind] = int(real.max()) if len(real) else -1
        store_part(conn, app_id, epoch, day, 0, self.part)
        compact(conn, app_id, epoch, day)


@contextlib.contextmanager
def checkpoint_after(conn: sqlite3.Connection) -> Iterator[None]:
    """No WAL checkpoint when the block's transactions commit (the committing connection would
    copy the WAL into the database there, holding the import lock): one at the end of the
    block instead, after the lock is let go, while the next importer writes."""
    with translated_errors():
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        with translated_errors():
            conn.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT}")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
