"""The embedded event store: one SQLite file (WAL), separate from the metadata database.

Tables mirror a Cassandra layout: every key starts with (app_id, epoch).
- `events`: raw events, key (app_id, epoch, day, ts, event_id). The key follows time, so
  inserts land at the end of the B-tree (cheap), and a re-sent event (same ts and id) hits the
  same key: `INSERT OR IGNORE` dedupes without a second, randomly-ordered index on the id.
- `stage_entries`: (app_id, epoch, stage, visitor_id) -> first_ts, the minimum ever seen.
- `visitor_last`: (app_id, epoch, visitor_id) -> session_id, last_ts, the maximum ever seen.
- `partitions`: (app_id, epoch) -> the number of events (a counter, as Cassandra would keep).
- `segments` / `segment_columns`: the same events by columns for the insights (`columns.py`),
  in parts per (app_id, epoch, UTC day), one row per column. An append records the keys of its
  new events in `pending` (cheap, in its transaction); `flush_pending` turns pending events into
  parts, in one transaction (the writer calls it when idle, and an append does when too much is
  pending). Reads take the parts and the pending events in one snapshot: always exact. Small
  parts of a day are merged as they accumulate (`_compact`): eight parts of one level become one
  of the next, up to parts of ~64k-256k events.
- `dictionary`: (app_id, epoch, kind, value) -> code: the codes of visitor and session ids in
  segments (dense per partition, assigned in the append's transaction), so that reading a
  month of parts looks up no visitor or session strings.

One connection per thread; writes take the write lock up front (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from operator import attrgetter
from pathlib import Path

import orjson

from .base import (
    MS_PER_DAY,
    AppendResult,
    EventStore,
    ScanRow,
    StoredEvent,
    StoreUnavailable,
    day_name,
)
from .columns import ARRAYS, GLOBAL, Columns, Part, decode_parts, encode_part, merge_parts

SCHEMA_VERSION = 2  # 2: segments
PAGE_SIZE = 1000  # rows per read page (events) or per delete transaction
_IN_CHUNK = 500  # visitor ids per IN (...) query, far below SQLite's parameter limit
_MIN_TS = -(2**63)
MERGE_AT = 8  # parts of one level in one day merged into one part of the next level
MERGE_BELOW = 100_000  # parts of at least this many events are not merged further
CODES_CACHED = 1_000_000  # dictionary codes kept in memory per partition and kind
FLUSH_EVENTS = 5000  # pending events turned into parts per flush transaction
PENDING_MAX = 500_000  # past this many pending events, each append also flushes a slice

_KEY = ("app_id", "epoch", "day", "ts", "event_id")
COLUMNS = _KEY + tuple(f.name for f in fields(StoredEvent) if f.name not in _KEY)
_JSON_COLUMNS = tuple(COLUMNS.index(name) for name in ("props", "utm"))
_STAGES = COLUMNS.index("stages")
_PAGE_KEY = tuple(COLUMNS.index(name) for name in ("day", "ts", "event_id"))
_read_columns = attrgetter(*COLUMNS)

_COLUMN_TYPES = {"app_id": "INTEGER", "epoch": "INTEGER", "ts": "INTEGER", "duration_ms": "INTEGER"}
_NULLABLE = {"props": "TEXT", "utm": "TEXT", "screen": "INTEGER"}


def _column_sql(name: str) -> str:
    if name in _NULLABLE:
        return f"{name} {_NULLABLE[name]}"
    return f"{name} {_COLUMN_TYPES.get(name, 'TEXT')} NOT NULL"


SCHEMA = f"""
CREATE TABLE IF NOT EXISTS events (
    {", ".join(_column_sql(name) for name in COLUMNS)},
    PRIMARY KEY (app_id, epoch, day, ts, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stage_entries (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, stage INTEGER NOT NULL,
    visitor_id TEXT NOT NULL, first_ts INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, stage, visitor_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS visitor_last (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, visitor_id TEXT NOT NULL,
    session_id TEXT NOT NULL, last_ts INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, visitor_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY, app_id INTEGER NOT NULL, epoch INTEGER NOT NULL,
    day_number INTEGER NOT NULL, level INTEGER NOT NULL, events INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, header BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_day ON segments (app_id, epoch, day_number, level);
CREATE TABLE IF NOT EXISTS segment_columns (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, segment_id INTEGER NOT NULL,
    name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (app_id, epoch, name, segment_id)
);
CREATE TABLE IF NOT EXISTS pending (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, day TEXT NOT NULL, ts INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    PRIMARY KEY (app_id, epoch, day, ts, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dictionary (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    code INTEGER NOT NULL,
    PRIMARY KEY (app_id, epoch, kind, value)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS dictionary_by_code ON dictionary (app_id, epoch, kind, code);
CREATE TABLE IF NOT EXISTS partitions (
    app_id INTEGER NOT NULL, epoch INTEGER NOT NULL, events INTEGER NOT NULL,
    incarnation INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, epoch)
) WITHOUT ROWID;
"""

_INSERT_EVENT = (
    f"INSERT OR IGNORE INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
)
_INSERT_PART = """
INSERT INTO segments (app_id, epoch, day_number, level, events, first_ts, header)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_COLUMN = """
INSERT INTO segment_columns (app_id, epoch, segment_id, name, data) VALUES (?, ?, ?, ?, ?)
"""
# Pending keys first (CROSS JOIN keeps SQLite from scanning events), each to its event's row.
_SELECT_PENDING = f"""
SELECT p.app_id, p.epoch, p.day, {", ".join("e." + name for name in ScanRow._fields)}
FROM pending p CROSS JOIN events e ON e.app_id = p.app_id AND e.epoch = p.epoch
AND e.day = p.day AND e.ts = p.ts AND e.event_id = p.event_id
"""
_INSERT_PENDING = "INSERT INTO pending (app_id, epoch, day, ts, event_id) VALUES (?, ?, ?, ?, ?)"
_DELETE_PENDING = """
DELETE FROM pending WHERE app_id = ? AND epoch = ? AND day = ? AND ts = ? AND event_id = ?
"""
_UPSERT_STAGE = """
INSERT INTO stage_entries (app_id, epoch, stage, visitor_id, first_ts) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET first_ts = excluded.first_ts WHERE excluded.first_ts < first_ts
"""
_UPSERT_LAST = """
INSERT INTO visitor_last (app_id, epoch, visitor_id, session_id, last_ts) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO UPDATE SET session_id = excluded.session_id, last_ts = excluded.last_ts
WHERE excluded.last_ts >= last_ts
"""
_COUNT_PARTITION = """
INSERT INTO partitions (app_id, epoch, events, incarnation) VALUES (?, ?, ?, random())
ON CONFLICT DO UPDATE SET events = events + excluded.events
"""
_SELECT_EVENTS = f"""
SELECT {", ".join(COLUMNS)} FROM events WHERE app_id = ? AND epoch = ? AND {{after}}
ORDER BY day, ts, event_id LIMIT {PAGE_SIZE}
"""
# Keyset pages; the row-value ranges are what lets SQLite seek into the primary key.
_PAGE_ALL_DAYS = _SELECT_EVENTS.format(after="(day, ts, event_id) > (?, ?, ?)")
_PAGE_ONE_DAY = _SELECT_EVENTS.format(after="day = ? AND (ts, event_id) > (?, ?)")
_SCAN = f"""
SELECT {", ".join(ScanRow._fields)} FROM events
WHERE app_id = ? AND epoch = ? AND day BETWEEN ? AND ? AND ts >= ? AND ts < ?
"""
# Deletes go by pages of keys, each page its own transaction (the key columns of each table).
_DELETE_PAGE = {
    "events": "day, ts, event_id",
    "stage_entries": "stage, visitor_id",
    "visitor_last": "visitor_id",
    "pending": "day, ts, event_id",
    "segment_columns": "name, segment_id",
    "segments": "id",
    "dictionary": "kind, value",
}

# Errors that mean "these events are malformed" (e.g. "Error binding parameter"), not "the
# store is down". A closed store raises StoreUnavailable before reaching sqlite3.
_DATA_ERRORS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
)


def _to_row(event: StoredEvent) -> list:
    row = list(_read_columns(event))
    for index in _JSON_COLUMNS:
        if row[index] is not None:
            row[index] = orjson.dumps(row[index]).decode()
    row[_STAGES] = ",".join(map(str, row[_STAGES]))
    return row


def _from_row(row: Sequence) -> StoredEvent:
    values = dict(zip(COLUMNS, row, strict=True))
    del values["day"]
    for name in ("props", "utm"):
        if values[name] is not None:
            values[name] = orjson.loads(values[name])
    stages = values["stages"]
    values["stages"] = tuple(map(int, stages.split(","))) if stages else ()
    return StoredEvent(**values)


def _pending_part(
    conn: sqlite3.Connection, app_id: int, epoch: int, first_day: str, last_day: str
) -> list[Part]:
    """The pending events of these days as a part in memory (none: []), its visitor and session
    codes those of the dictionary, or codes of this read only for values it has not yet."""
    rows = conn.execute(
        f"{_SELECT_PENDING} WHERE p.app_id = ? AND p.epoch = ? AND p.day BETWEEN ? AND ?",
        (app_id, epoch, first_day, last_day),
    ).fetchall()
    if not rows:
        return []
    events = [_scan_row(row[3:]) for row in rows]
    dictionary, extra = {}, {}
    for kind in GLOBAL:
        values = {getattr(event, kind) for event in events}
        found = _lookup_codes(conn, app_id, epoch, kind, values)
        (next_code,) = conn.execute(_NEXT_CODE, (app_id, epoch, kind)).fetchone()
        unseen = {value: next_code + i for i, value in enumerate(sorted(values - found.keys()))}
        dictionary[kind] = {**found, **unseen}
        extra[kind] = {code: value for value, code in unseen.items()}
    part = encode_part(events, dictionary)
    part.extra = extra
    return [part]


def _scan_row(values: Sequence) -> ScanRow:
    stages = values[-1]
    return ScanRow._make((*values[:-1], tuple(map(int, stages.split(","))) if stages else ()))


def _pending_key(event: StoredEvent) -> tuple:
    return (event.app_id, event.epoch, event.day, event.ts, event.event_id)


def _insert_part(
    conn: sqlite3.Connection,
    app_id: int,
    epoch: int,
    day: int,
    events,
    known: dict[str, dict[str, int]] | None = None,
    learned: dict[str, dict[str, int]] | None = None,
    *,
    level: int,
) -> None:
    """A level-`level` part of these events. `known`: codes known to be committed, by kind;
    the others are looked up (or assigned) and put in `learned`."""
    dictionary = {}
    for kind in GLOBAL:
        cached = (known or {}).get(kind, {})
        values = {getattr(event, kind) for event in events}
        codes = {value: cached[value] for value in values if value in cached}
        if len(codes) < len(values):
            found = _codes(conn, app_id, epoch, kind, values - codes.keys())
            codes.update(found)
            if learned is not None:
                learned[kind].update(found)
        dictionary[kind] = codes
    _store_part(conn, app_id, epoch, day, level, encode_part(events, dictionary))


def _store_part(
    conn: sqlite3.Connection, app_id: int, epoch: int, day: int, level: int, part: Part
) -> None:
    """A part: its header row in `segments`, a row per column in `segment_columns`."""
    cursor = conn.execute(
        _INSERT_PART, (app_id, epoch, day, level, part.n, part.first_ts, part.header())
    )
    conn.executemany(
        _INSERT_COLUMN,
        [(app_id, epoch, cursor.lastrowid, name, part.data[name]) for name in ARRAYS],
    )


@contextlib.contextmanager
def _reading_parts(
    conn: sqlite3.Connection, app_id: int, epoch: int, where: str, params: Sequence
) -> Iterator[list[Part]]:
    """The parts of a partition whose `segments` row matches `where`, each column fetched for
    all of them when first asked for, within the block only (run it in one transaction: its
    snapshot is what makes the columns of one part agree)."""
    headers = conn.execute(
        f"SELECT id, first_ts, header FROM segments WHERE app_id = ? AND epoch = ? AND {where}",
        (app_id, epoch, *params),
    ).fetchall()
    fetched: dict[str, dict[int, bytes]] = {}
    reading = True

    def column(name: str) -> dict[int, bytes]:
        if name not in fetched:
            if not reading:
                raise LookupError(f"column {name!r} was not read with the others")
            fetched[name] = {}
            for start in range(0, len(headers), _IN_CHUNK):
                ids = [part_id for part_id, _, _ in headers[start : start + _IN_CHUNK]]
                marks = ", ".join("?" * len(ids))
                fetched[name].update(
                    conn.execute(
                        "SELECT segment_id, data FROM segment_columns WHERE app_id = ? "
                        f"AND epoch = ? AND name = ? AND segment_id IN ({marks})",
                        (app_id, epoch, name, *ids),
                    )
                )
        return fetched[name]

    yield [
        Part.from_header(header, first_ts, _PartColumns(column, part_id))
        for part_id, first_ts, header in headers
    ]
    reading = False


class _PartColumns(Mapping):
    """One part's column bytes, fetched (for every part read with it) when first asked for."""

    def __init__(self, column, part_id: int) -> None:
        self._column, self._id = column, part_id

    def __getitem__(self, name: str) -> bytes:
        return self._column(name)[self._id]

    def __iter__(self):
        return iter(ARRAYS)

    def __len__(self) -> int:
        return len(ARRAYS)


_NEXT_CODE = """
SELECT COALESCE(MAX(code) + 1, 0) FROM dictionary WHERE app_id = ? AND epoch = ? AND kind = ?
"""


def _lookup_codes(
    conn: sqlite3.Connection, app_id: int, epoch: int, kind: str, values: set[str]
) -> dict[str, int]:
    """The dictionary's codes of those values that have one."""
    wanted = sorted(values)
    codes: dict[str, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        codes.update(
            conn.execute(
                "SELECT value, code FROM dictionary WHERE app_id = ? AND epoch = ? AND kind = ? "
                f"AND value IN ({', '.join('?' * len(chunk))})",
                (app_id, epoch, kind, *chunk),
            )
        )
    return codes


def _codes(
    conn: sqlite3.Connection, app_id: int, epoch: int, kind: str, values: set[str]
) -> dict[str, int]:
    """The partition's codes of these values; new values get the next free codes."""
    codes = _lookup_codes(conn, app_id, epoch, kind, values)
    new = sorted(value for value in values if value not in codes)
    if new:
        (next_code,) = conn.execute(_NEXT_CODE, (app_id, epoch, kind)).fetchone()
        assigned = {value: next_code + i for i, value in enumerate(new)}
        conn.executemany(
            "INSERT INTO dictionary (app_id, epoch, kind, value, code) VALUES (?, ?, ?, ?, ?)",
            [(app_id, epoch, kind, value, code) for value, code in assigned.items()],
        )
        codes.update(assigned)
    return codes


def _compact(conn: sqlite3.Connection, app_id: int, epoch: int, day: int) -> None:
    """Merge the day's parts level by level while a level holds MERGE_AT small parts: each
    event is rewritten about log8(events in the day) times, and a read finds few parts."""
    key = (app_id, epoch, day)
    while True:
        levels: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for part_id, level, events in conn.execute(
            "SELECT id, level, events FROM segments "
            f"WHERE app_id = ? AND epoch = ? AND day_number = ? AND events < {MERGE_BELOW}",
            key,
        ):
            levels[level].append((part_id, events))
        full = [level for level, parts in levels.items() if len(parts) >= MERGE_AT]
        if not full:
            return
        level = min(full)
        ids = [part_id for part_id, _ in levels[level]]
        marks = ", ".join("?" * len(ids))
        with _reading_parts(conn, app_id, epoch, f"id IN ({marks})", ids) as parts:
            merged = merge_parts(parts)
        conn.execute(f"DELETE FROM segments WHERE id IN ({marks})", ids)
        conn.execute(
            "DELETE FROM segment_columns WHERE app_id = ? AND epoch = ? "
            f"AND segment_id IN ({marks})",
            (app_id, epoch, *ids),
        )
        _store_part(conn, app_id, epoch, day, level + 1, merged)


@contextlib.contextmanager
def _translated_errors():
    """sqlite3 errors other than bad data become StoreUnavailable (locked, I/O, closed...)."""
    try:
        yield
    except _DATA_ERRORS:
        raise
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"event store (SQLite): {exc}") from exc


class SQLiteEventStore(EventStore):
    """The event store in one SQLite file, for one machine."""

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
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with _translated_errors():
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
        with _translated_errors():
            return self._conn().execute(sql, params).fetchall()

    def _create_schema(self) -> None:
        with _translated_errors():
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
            for event in map(_from_row, rows):
                if event.ts // MS_PER_DAY != day and events:
                    _insert_part(conn, app_id, epoch, day, events, level=1)
                    events = []
                day = event.ts // MS_PER_DAY
                events.append(event)
            if events:
                _insert_part(conn, app_id, epoch, day, events, level=1)

    # -- writes ------------------------------------------------------------------------------

    def append(self, events: Sequence[StoredEvent]) -> AppendResult:
        if not events:
            return AppendResult()
        rows = [_to_row(event) for event in events]  # bad data fails before the transaction
        new: list[StoredEvent] = []
        with self._transaction() as conn:
            insert = conn.execute
            for event, row in zip(events, rows, strict=True):
                if insert(_INSERT_EVENT, row).rowcount:
                    new.append(event)
            assigned = self._count_and_index(conn, new)
        self._remember_codes(assigned)
        new_keys = frozenset(event.key for event in new)
        return AppendResult(
            new_keys=new_keys,
            duplicate_keys=frozenset(event.key for event in events) - new_keys,
        )

    def _count_and_index(self, conn: sqlite3.Connection, new: list[StoredEvent]) -> dict:
        """Counters, stage entries, last seen and pending keys, from the newly stored events
        only. Returns the dictionary codes of the column parts it built, if back-pressure made
        it build any (to remember once committed)."""
        first_entry: dict[tuple, int] = {}
        latest: dict[tuple, tuple[int, str]] = {}
        for event in new:
            for stage in event.stages:
                key = (event.app_id, event.epoch, stage, event.visitor_id)
                if event.ts < first_entry.get(key, event.ts + 1):
                    first_entry[key] = event.ts
            key = (event.app_id, event.epoch, event.visitor_id)
            if event.ts >= latest.get(key, (_MIN_TS, ""))[0]:
                latest[key] = (event.ts, event.session_id)
        conn.executemany(_UPSERT_STAGE, [(*key, ts) for key, ts in first_entry.items()])
        conn.executemany(_UPSERT_LAST, [(*key, sid, ts) for key, (ts, sid) in latest.items()])
        counts = Counter((event.app_id, event.epoch) for event in new)
        conn.executemany(_COUNT_PARTITION, [(*key, n) for key, n in counts.items()])
        conn.executemany(_INSERT_PENDING, [_pending_key(event) for event in new])
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
        rows = conn.execute(f"{_SELECT_PENDING} {where} LIMIT {limit}", params).fetchall()
        by_day: dict[tuple[int, int, int], list[ScanRow]] = defaultdict(list)
        keys = []
        for app_id, epoch, day, *scan_row in rows:
            event = _scan_row(scan_row)
            by_day[(app_id, epoch, event.ts // MS_PER_DAY)].append(event)
            keys.append((app_id, epoch, day, event.ts, event.event_id))
        for (app_id, epoch, day), group in by_day.items():
            key = (app_id, epoch)
            if key not in learned:
                learned[key] = (self._incarnation(conn, key), {kind: {} for kind in GLOBAL})
            cached = self._cached_codes(key, learned[key][0])
            _insert_part(conn, app_id, epoch, day, group, cached, learned[key][1], level=0)
            _compact(conn, app_id, epoch, day)
        conn.executemany(_DELETE_PENDING, keys)
        for app_id, epoch, *_ in keys:
            self._unflushed[(app_id, epoch)] = max(0, self._unflushed.get((app_id, epoch), 0) - 1)
        return len(keys)

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
        for table, key in _DELETE_PAGE.items():
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
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
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
        sql = _PAGE_ONE_DAY if day else _PAGE_ALL_DAYS
        after: tuple = (day or "", _MIN_TS, "")
        while True:
            rows = self._query(sql, (app_id, epoch, *after))
            yield from map(_from_row, rows)
            if len(rows) < PAGE_SIZE:
                return
            after = tuple(rows[-1][index] for index in _PAGE_KEY)

    def scan(self, app_id: int, epoch: int, start_ms: int, end_ms: int) -> Iterator[ScanRow]:
        # One statement: the day bounds let SQLite seek into the primary key.
        if end_ms <= start_ms:
            return
        first_day, last_day = day_name(start_ms // MS_PER_DAY), day_name((end_ms - 1) // MS_PER_DAY)
        with _translated_errors():
            cursor = self._conn().execute(
                _SCAN, (app_id, epoch, first_day, last_day, start_ms, end_ms)
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
        with _translated_errors():
            conn = self._conn()
            conn.execute("BEGIN")  # one snapshot: merges may replace parts meanwhile
            try:
                where = "day_number BETWEEN ? AND ?"
                with _reading_parts(conn, app_id, epoch, where, days) as parts:
                    pending = _pending_part(conn, app_id, epoch, *map(day_name, days))
                    columns = decode_parts([*parts, *pending], loaders)
                    for name in names or ARRAYS:
                        columns.codes[name]  # read now, within the snapshot
            finally:
                conn.execute("COMMIT")
        return columns.between(start_ms, end_ms)

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
            for start in range(0, len(wanted), _IN_CHUNK):
                chunk = wanted[start : start + _IN_CHUNK]
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

    def ping(self) -> None:
        self._query("SELECT 1 FROM partitions LIMIT 1")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
