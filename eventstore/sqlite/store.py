"""`SQLiteEventStore`: the embedded backend (see the package's docstring for its tables)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import shutil
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path

from ..base import EventStore, ImportCounts
from ..columns import ARRAYS, GLOBAL, Columns, EventBatch, decode_parts
from ..rollups import Rollups
from ..values import MS_PER_DAY, AppendResult, EventKey, ScanRow, StoredEvent, day_name
from . import bulk
from .parts import (
    compact,
    insert_part,
    pending_part,
    read_rollups,
    reading_parts,
    store_rollups,
)
from .schema import (
    COLUMNS,
    COUNT_PARTITION,
    DELETE_PAGE,
    DELETE_PENDING,
    IN_CHUNK,
    INSERT_EVENT,
    INSERT_PENDING,
    MIN_TS,
    PAGE_ALL_DAYS,
    PAGE_KEY,
    PAGE_ONE_DAY,
    PAGE_SIZE,
    SCAN,
    SCHEMA,
    SCHEMA_VERSION,
    SELECT_KEYS,
    SELECT_PENDING,
    UPSERT_LAST,
    UPSERT_STAGE,
    StoreUnavailable,
    from_row,
    pending_key,
    scan_row,
    to_row,
    translated_errors,
)

CODES_CACHED = 1_000_000  # dictionary codes kept in memory per partition and kind
FLUSH_EVENTS = 5000  # pending events turned into parts per flush transaction
PENDING_MAX = 500_000  # past this many pending events, each append also flushes a slice
ROWS_PER_STATEMENT = (128, 32, 8, 2, 1)  # appends: a few prepared shapes cover any number of rows
# WAL pages before a commit copies them into the database (SQLite's default: 1,000). Fewer,
# larger checkpoints: the ingest loop read 0.43 -> 0.02 KB of WAL per event and spent ~1.5 us
# less CPU per event (docs/benchmarks.md, "Ingest"); the WAL file may reach ~40 MB.
WAL_CHECKPOINT_PAGES = 10_000


class SQLiteEventStore(EventStore):
    """The event store in one SQLite file, for one machine."""

    bytes_per_event = 390  # raw row, indexes, column parts, rollups (bench: 378 MB per 980k)

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        # (app_id, epoch) -> (incarnation, {kind: {value: code}}): dictionary codes known to be
        # committed; valid while the partition's incarnation (new after a delete) is the same.
        self._codes: dict[tuple[int, int], tuple[int, dict[str, dict[str, int]]]] = {}
        self._unflushed: dict[tuple[int, int], int] = {}  # pending events appended here
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._create_schema()

    @classmethod
    def from_settings(cls) -> SQLiteEventStore:
        from django.conf import settings

        return cls(settings.EVENT_STORE_SQLITE_PATH)

    # -- connections ---------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if self._closed:
                    raise StoreUnavailable("event store (SQLite) is closed")
                conn = sqlite3.connect(
                    self.path,
                    timeout=self.busy_timeout,
                    isolation_level=None,  # autocommit; writes open BEGIN IMMEDIATE themselves
                    check_same_thread=False,  # only so that close() may close it
                )
                self._connections.append(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with translated_errors():
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.rollback()
                raise

    def _query(self, sql: str, params: Sequence = ()) -> list:
        with translated_errors():
            return self._conn().execute(sql, params).fetchall()

    def _create_schema(self) -> None:
        with translated_errors():
            conn = self._conn()
            conn.execute("PRAGMA journal_mode = WAL")
        with self._transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"{self.path} has event store schema {version}, newer than this code's "
                    f"{SCHEMA_VERSION}"
                )
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            if version == 1:
                columns = [row[1] for row in conn.execute("PRAGMA table_info(partitions)")]
                if "incarnation" not in columns:
                    conn.execute(
                        "ALTER TABLE partitions ADD COLUMN incarnation INTEGER NOT NULL DEFAULT 0"
                    )
                conn.execute("UPDATE partitions SET incarnation = random()")
                self._backfill_segments(conn)
                conn.execute("DELETE FROM pending")  # every event is in a part now
            if version == 2:  # the rollups of the parts stored before
                for app_id, epoch in conn.execute(
                    "SELECT app_id, epoch FROM partitions"
                ).fetchall():
                    store_rollups(conn, app_id, epoch)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def _backfill_segments(conn: sqlite3.Connection) -> None:
        """Schema 1 -> 2: the segments of the events stored before (one part per day)."""
        partitions = conn.execute("SELECT app_id, epoch FROM partitions").fetchall()
        for app_id, epoch in partitions:
            day, events = None, []
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM events WHERE app_id = ? AND epoch = ?",
                (app_id, epoch),
            )
            for event in map(from_row, rows):
                if event.ts // MS_PER_DAY != day and events:
                    insert_part(conn, app_id, epoch, day, events, level=1)
                    events = []
                day = event.ts // MS_PER_DAY
                events.append(event)
            if events:
                insert_part(conn, app_id, epoch, day, events, level=1)

    # -- writes ------------------------------------------------------------------------------

    def append(self, events: Sequence[StoredEvent]) -> AppendResult:
        if not events:
            return AppendResult()
        rows = [to_row(event) for event in events]  # bad data fails before the transaction
        with self._transaction() as conn:
            new = self._insert_new(conn, events, rows)
            assigned = self._count_and_index(conn, new)
        self._remember_codes(assigned)
        new_keys = frozenset(event.key for event in new)
        if len(new) == len(events):  # nothing re-sent (the common case): no key set to subtract
            return AppendResult(new_keys=new_keys)
        return AppendResult(
            new_keys=new_keys,
            duplicate_keys=frozenset(event.key for event in events) - new_keys,
        )

    @staticmethod
    def _insert_new(
        conn: sqlite3.Connection, events: Sequence[StoredEvent], rows: list[list]
    ) -> list[StoredEvent]:
        """Insert the events' rows; return the events that were not stored yet. The rows go in
        a few multi-row statements (sqlite3 lets go of the GIL and takes it back per statement,
        not per row: with the event loop busy, each retake waits); only when some were stored
        already (a re-send) are they inserted again one by one, to tell which."""
        before = conn.total_changes
        conn.execute("SAVEPOINT append_rows")
        insert_rows(conn, INSERT_EVENT, rows)
        if conn.total_changes - before == len(rows):
            conn.execute("RELEASE append_rows")
            return list(events)
        conn.execute("ROLLBACK TO append_rows")
        conn.execute("RELEASE append_rows")
        insert = conn.execute
        return [
            event
            for event, row in zip(events, rows, strict=True)
            if insert(INSERT_EVENT, row).rowcount
        ]

    def import_events(self, events: Sequence[StoredEvent]) -> AppendResult:
        """Large batches (generated traffic, restored archives) in one transaction: the events
        not stored yet are inserted together and go straight into column parts (per day), not
        through `pending`. Rows and index entries are prepared before the write lock is taken,
        and importers queue for it on a file lock (no busy polling between them)."""
        if not events:
            return AppendResult()
        unique = list({event.key: event for event in events}.values())
        rows = {event.key: to_row(event) for event in unique}  # bad data fails first
        index = _Index(unique)
        with self._import_lock(), self._transaction() as conn:
            stored = self._stored_keys(conn, unique)
            new = [event for event in unique if event.key not in stored] if stored else unique
            conn.executemany(INSERT_EVENT, [rows[event.key] for event in new])
            (_Index(new) if stored else index).write(conn)
            learned: dict = {}
            self._build_parts(conn, learned, ((e.app_id, e.epoch, e) for e in new))
        self._remember_codes(learned)
        new_keys = frozenset(event.key for event in new)
        return AppendResult(new_keys=new_keys, duplicate_keys=frozenset(rows) - new_keys)

    def import_columns(self, batch: EventBatch) -> ImportCounts:
        """A batch by columns (generated traffic) through `bulk`: one partition, none of its
        events stored yet, in one transaction. Any other batch (several partitions, an event
        id twice, events stored already) is imported by `import_events`."""
        if not len(batch):
            return ImportCounts()
        prepared = bulk.prepare(batch)  # before the lock; bad data fails here or rolls back
        if prepared is not None:
            key = (prepared.app_id, prepared.epoch)
            with (
                translated_errors(),
                bulk.staged(self._conn(), prepared),  # the raw rows, before the lock
                self._import_lock(),
                self._transaction() as conn,
            ):
                if not bulk.stored_ids(conn, prepared):
                    incarnation = self._incarnation(conn, key)
                    learned = {key: (incarnation, {kind: {} for kind in GLOBAL})}
                    known = self._cached_codes(key, incarnation)
                    bulk.write(conn, prepared, known, learned[key][1])
                else:
                    learned = None
            if learned is not None:
                self._remember_codes(learned)
                return ImportCounts(new=prepared.n)
        return super().import_columns(batch)

    @contextlib.contextmanager
    def _import_lock(self) -> Iterator[None]:
        with open(f"{self.path}.import-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _stored_keys(conn: sqlite3.Connection, events: list[StoredEvent]) -> set[EventKey]:
        """The keys among `events` that are stored already (one range read per day)."""
        bounds: dict[tuple[int, int, str], list[int]] = {}
        for event in events:
            low_high = bounds.setdefault((event.app_id, event.epoch, event.day), [event.ts] * 2)
            low_high[0], low_high[1] = min(low_high[0], event.ts), max(low_high[1], event.ts)
        stored: set[EventKey] = set()
        for (app_id, epoch, day), (low, high) in bounds.items():
            rows = conn.execute(SELECT_KEYS, (app_id, epoch, day, low, high))
            stored.update((app_id, epoch, event_id) for (event_id,) in rows)
        return stored

    def _count_and_index(self, conn: sqlite3.Connection, new: list[StoredEvent]) -> dict:
        """Counters, stage entries, last seen and pending keys, from the newly stored events
        only. Returns the dictionary codes of the column parts it built, if back-pressure made
        it build any (to remember once committed)."""
        counts = _Index(new).write(conn)
        insert_rows(conn, INSERT_PENDING, [pending_key(event) for event in new])
        learned: dict = {}
        for partition, n in counts.items():
            self._unflushed[partition] = self._unflushed.get(partition, 0) + n
            if self._unflushed[partition] > PENDING_MAX:  # back-pressure: columns keep up
                self._flush(conn, learned, partition, FLUSH_EVENTS)
        return learned

    def flush_pending(self, limit: int = FLUSH_EVENTS) -> int:
        """Turn up to `limit` pending events into column parts; return how many."""
        with self._transaction() as conn:
            learned: dict = {}
            flushed = self._flush(conn, learned, None, limit)
        self._remember_codes(learned)
        return flushed

    def _flush(self, conn, learned: dict, partition, limit: int) -> int:
        """Up to `limit` pending events (of one partition, or any) into column parts; the
        dictionary codes looked up go into `learned`."""
        where, params = ("WHERE p.app_id = ? AND p.epoch = ?", partition) if partition else ("", ())
        rows = conn.execute(f"{SELECT_PENDING} {where} LIMIT {limit}", params).fetchall()
        events, keys = [], []
        for app_id, epoch, day, *values in rows:
            event = scan_row(values)
            events.append((app_id, epoch, event))
            keys.append((app_id, epoch, day, event.ts, event.event_id))
        self._build_parts(conn, learned, events)
        conn.executemany(DELETE_PENDING, keys)
        for app_id, epoch, *_ in keys:
            self._unflushed[(app_id, epoch)] = max(0, self._unflushed.get((app_id, epoch), 0) - 1)
        return len(keys)

    def _build_parts(self, conn: sqlite3.Connection, learned: dict, events: Iterable) -> None:
        """Level-0 column parts of these events, one per (app, epoch, day), then merges. Events
        are StoredEvents, or (app_id, epoch, ScanRow) triples."""
        by_day: dict[tuple[int, int, int], list] = defaultdict(list)
        for item in events:
            app_id, epoch, event = (
                item if isinstance(item, tuple) else (item.app_id, item.epoch, item)
            )
            by_day[(app_id, epoch, event.ts // MS_PER_DAY)].append(event)
        for (app_id, epoch, day), group in by_day.items():
            key = (app_id, epoch)
            if key not in learned:
                learned[key] = (self._incarnation(conn, key), {kind: {} for kind in GLOBAL})
            cached = self._cached_codes(key, learned[key][0])
            insert_part(conn, app_id, epoch, day, group, cached, learned[key][1], level=0)
            compact(conn, app_id, epoch, day)

    @staticmethod
    def _incarnation(conn: sqlite3.Connection, partition: tuple[int, int]) -> int:
        row = conn.execute(
            "SELECT incarnation FROM partitions WHERE app_id = ? AND epoch = ?", partition
        ).fetchone()
        return row[0] if row else 0

    def _cached_codes(self, partition: tuple[int, int], incarnation: int) -> dict:
        cached = self._codes.get(partition)
        return cached[1] if cached and cached[0] == incarnation else {}

    def _remember_codes(self, learned: dict) -> None:
        """Keep the codes an append looked up, once it committed (codes never change while
        the partition lives; a deleted partition comes back with a new incarnation)."""
        with self._lock:
            for key, (incarnation, codes) in learned.items():
                cached = self._codes.get(key)
                if cached is None or cached[0] != incarnation:
                    cached = self._codes[key] = (incarnation, {kind: {} for kind in GLOBAL})
                for kind, values in codes.items():
                    if len(cached[1][kind]) + len(values) > CODES_CACHED:
                        cached[1][kind].clear()  # a cache only: bounded
                    cached[1][kind].update(values)

    def delete_partition(self, app_id: int, epoch: int) -> int:
        deleted = 0
        for table, key in DELETE_PAGE.items():
            while True:
                with self._transaction() as conn:
                    n = conn.execute(
                        f"DELETE FROM {table} WHERE app_id = ? AND epoch = ? AND ({key}) IN "
                        f"(SELECT {key} FROM {table} WHERE app_id = ? AND epoch = ? "
                        f"LIMIT {PAGE_SIZE})",
                        (app_id, epoch, app_id, epoch),
                    ).rowcount
                    if table == "events":
                        conn.execute(
                            "UPDATE partitions SET events = events - ? "
                            "WHERE app_id = ? AND epoch = ?",
                            (n, app_id, epoch),
                        )
                        deleted += n
                if n < PAGE_SIZE:
                    break
        with self._transaction() as conn:
            conn.execute("DELETE FROM partitions WHERE app_id = ? AND epoch = ?", (app_id, epoch))
        self._unflushed.pop((app_id, epoch), None)
        return deleted

    # -- reads -------------------------------------------------------------------------------

    def last_seen(
        self, app_id: int, epoch: int, visitor_ids: Collection[str]
    ) -> dict[str, tuple[str, int]]:
        wanted = list(dict.fromkeys(visitor_ids))
        seen: dict[str, tuple[str, int]] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            rows = self._query(
                "SELECT visitor_id, session_id, last_ts FROM visitor_last "
                f"WHERE app_id = ? AND epoch = ? AND visitor_id IN ({', '.join('?' * len(chunk))})",
                (app_id, epoch, *chunk),
            )
            seen.update((visitor, (session, ts)) for visitor, session, ts in rows)
        return seen

    def events(self, app_id: int, epoch: int, *, day: str | None = None) -> Iterator[StoredEvent]:
        # Pages by key, each one its own statement: no read transaction stays open between
        # pages (an open one would stop WAL checkpoints), and the caller may pause at will.
        sql = PAGE_ONE_DAY if day else PAGE_ALL_DAYS
        after: tuple = (day or "", MIN_TS, "")
        while True:
            rows = self._query(sql, (app_id, epoch, *after))
            yield from map(from_row, rows)
            if len(rows) < PAGE_SIZE:
                return
            after = tuple(rows[-1][index] for index in PAGE_KEY)

    def scan(self, app_id: int, epoch: int, start_ms: int, end_ms: int) -> Iterator[ScanRow]:
        # One statement: the day bounds let SQLite seek into the primary key.
        if end_ms <= start_ms:
            return
        first_day, last_day = day_name(start_ms // MS_PER_DAY), day_name((end_ms - 1) // MS_PER_DAY)
        with translated_errors():
            cursor = self._conn().execute(
                SCAN, (app_id, epoch, first_day, last_day, start_ms, end_ms)
            )
            for row in cursor:
                stages = row[-1]
                yield ScanRow._make(
                    (*row[:-1], tuple(map(int, stages.split(","))) if stages else ())
                )

    def columns(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str] = ()
    ) -> Columns:
        if end_ms <= start_ms:
            return Columns.empty()
        days = (start_ms // MS_PER_DAY, (end_ms - 1) // MS_PER_DAY)
        loaders = {kind: self._dictionary(app_id, epoch, kind) for kind in GLOBAL}
        with translated_errors():
            conn = self._conn()
            conn.execute("BEGIN")  # one snapshot: merges may replace parts meanwhile
            try:
                where = "day_number BETWEEN ? AND ?"
                with reading_parts(conn, app_id, epoch, where, days) as parts:
                    pending = pending_part(conn, app_id, epoch, *map(day_name, days))
                    columns = decode_parts([*parts, *pending], loaders)
                    for name in names or ARRAYS:
                        columns.codes[name]  # read now, within the snapshot
            finally:
                conn.execute("COMMIT")
        return columns.between(start_ms, end_ms)

    def rollups(
        self, app_id: int, epoch: int, start_ms: int, end_ms: int, names: Iterable[str]
    ) -> Rollups:
        if end_ms <= start_ms:
            return Rollups([])
        loaders = {kind: self._dictionary(app_id, epoch, kind) for kind in GLOBAL}
        with translated_errors():
            conn = self._conn()
            conn.execute("BEGIN")  # one snapshot: merges may replace parts meanwhile
            try:
                return read_rollups(conn, app_id, epoch, start_ms, end_ms, list(names), loaders)
            finally:
                conn.execute("COMMIT")

    def _dictionary(self, app_id: int, epoch: int, kind: str) -> tuple:
        """The functions that load all, or look up some, strings of a coded column."""
        where = "WHERE app_id = ? AND epoch = ? AND kind = ?"

        def load() -> list[str]:
            rows = self._query(
                f"SELECT value FROM dictionary {where} ORDER BY code", (app_id, epoch, kind)
            )
            return [value for (value,) in rows]

        def lookup(codes: list[int]) -> dict[int, str]:
            found: dict[int, str] = {}
            wanted = sorted(set(codes))
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                marks = ", ".join("?" * len(chunk))
                rows = self._query(
                    f"SELECT code, value FROM dictionary {where} AND code IN ({marks})",
                    (app_id, epoch, kind, *chunk),
                )
                found.update(rows)
            return found

        return load, lookup

    def stage_visitors(self, app_id: int, epoch: int, stage: int) -> dict[str, int]:
        rows = self._query(
            "SELECT visitor_id, first_ts FROM stage_entries "
            "WHERE app_id = ? AND epoch = ? AND stage = ?",
            (app_id, epoch, stage),
        )
        return dict(rows)

    def stage_entry_counts(
        self, app_id: int, epoch: int, stages: Iterable[int], start_ms: int, end_ms: int
    ) -> dict[int, int]:
        return {
            stage: self._query(
                "SELECT COUNT(*) FROM stage_entries WHERE app_id = ? AND epoch = ? AND stage = ? "
                "AND first_ts >= ? AND first_ts < ?",
                (app_id, epoch, stage, start_ms, end_ms),
            )[0][0]
            for stage in stages
        }

    def count_events(self, app_id: int, epoch: int) -> int:
        rows = self._query(
            "SELECT events FROM partitions WHERE app_id = ? AND epoch = ?", (app_id, epoch)
        )
        return rows[0][0] if rows else 0

    def epochs(self, app_id: int) -> list[int]:
        rows = self._query(
            "SELECT epoch FROM partitions WHERE app_id = ? ORDER BY epoch", (app_id,)
        )
        return [epoch for (epoch,) in rows]

    def free_bytes(self) -> int | None:
        return shutil.disk_usage(self.path.parent).free

    def ping(self) -> None:
        self._query("SELECT 1 FROM partitions LIMIT 1")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()


class _Index:
    """What newly stored events add to the stage entries, last seen rows and partition counts
    (computed without the database, written in the transaction that stores them)."""

    def __init__(self, new: Iterable[StoredEvent]) -> None:
        first_entry: dict[tuple, int] = {}
        latest: dict[tuple, tuple[int, str]] = {}
        counts: Counter = Counter()
        for event in new:
            for stage in event.stages:
                key = (event.app_id, event.epoch, stage, event.visitor_id)
                if event.ts < first_entry.get(key, event.ts + 1):
                    first_entry[key] = event.ts
            key = (event.app_id, event.epoch, event.visitor_id)
            if event.ts >= latest.get(key, (MIN_TS, ""))[0]:
                latest[key] = (event.ts, event.session_id)
            counts[(event.app_id, event.epoch)] += 1
        self.stages = [(*key, ts) for key, ts in first_entry.items()]
        self.last = [(*key, sid, ts) for key, (ts, sid) in latest.items()]
        self.counts = counts

    def write(self, conn: sqlite3.Connection) -> Counter:
        """Upsert the entries; returns the new events per partition."""
        conn.executemany(UPSERT_STAGE, self.stages)
        conn.executemany(UPSERT_LAST, self.last)
        conn.executemany(COUNT_PARTITION, [(*key, n) for key, n in self.counts.items()])
        return self.counts


def insert_rows(conn: sqlite3.Connection, insert: str, rows: Sequence[Sequence]) -> None:
    """Run `insert` (an INSERT ... VALUES (?, ...) of one row) for every row, many rows per
    statement."""
    start = 0
    for size in ROWS_PER_STATEMENT:
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            conn.execute(_many_rows(insert, size), [value for row in chunk for value in row])
            start += size


@functools.lru_cache(maxsize=64)
def _many_rows(insert: str, size: int) -> str:
    """`insert` with `size` rows of values."""
    head, _, tail = insert.partition("VALUES")
    row, _, rest = tail.strip().partition(")")
    return f"{head}VALUES {', '.join([row + ')'] * size)}{rest}"
