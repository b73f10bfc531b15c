"""Column parts in SQLite: a part's header row in `segments`, a row per column in
`segment_columns` (its events' columns, and those of its rollup: `rollups.NAMES`, coded by the
part's tables); built from pending events, read in one snapshot, merged per day."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from ..columns import ARRAYS, GLOBAL, Columns, Part, decode_parts, encode_part, merge_parts
from ..rollups import NAMES, Rollups, summarize, summary_bytes
from ..values import MS_PER_DAY, day_name
from .codes import NEXT_CODE, assign_codes, lookup_codes
from .schema import IN_CHUNK, INSERT_COLUMN, INSERT_PART, SELECT_PENDING, scan_row

MERGE_AT = 8  # parts of one level in one day merged into one part of the next level
MERGE_BELOW = 100_000  # parts of at least this many events are not merged further


def pending_part(
    conn: sqlite3.Connection, app_id: int, epoch: int, first_day: str, last_day: str
) -> list[Part]:
    """The pending events of these days as a part in memory (none: []), its visitor and session
    codes those of the dictionary, or codes of this read only for values it has not yet."""
    rows = conn.execute(
        f"{SELECT_PENDING} WHERE p.app_id = ? AND p.epoch = ? AND p.day BETWEEN ? AND ?",
        (app_id, epoch, first_day, last_day),
    ).fetchall()
    if not rows:
        return []
    events = [scan_row(row[3:]) for row in rows]
    dictionary, extra = {}, {}
    for kind in GLOBAL:
        values = {getattr(event, kind) for event in events}
        found = lookup_codes(conn, app_id, epoch, kind, values)
        (next_code,) = conn.execute(NEXT_CODE, (app_id, epoch, kind)).fetchone()
        unseen = {value: next_code + i for i, value in enumerate(sorted(values - found.keys()))}
        dictionary[kind] = {**found, **unseen}
        extra[kind] = {code: value for value, code in unseen.items()}
    part = encode_part(events, dictionary)
    part.extra = extra
    return [part]


def insert_part(
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
            found = assign_codes(conn, app_id, epoch, kind, values - codes.keys())
            codes.update(found)
            if learned is not None:
                learned[kind].update(found)
        dictionary[kind] = codes
    store_part(conn, app_id, epoch, day, level, encode_part(events, dictionary))


def store_part(
    conn: sqlite3.Connection,
    app_id: int,
    epoch: int,
    day: int,
    level: int,
    part: Part,
    columns: Columns | None = None,
) -> None:
    """A part: its header row in `segments`, a row per column in `segment_columns`.
    `columns`: the part's events by columns when the caller has them (its rollup is computed
    from them instead of decoding the part again)."""
    cursor = conn.execute(
        INSERT_PART, (app_id, epoch, day, level, part.n, part.first_ts, part.header())
    )
    rollup = summarize(decode_parts([part]) if columns is None else columns)
    data = [(name, part.data[name]) for name in ARRAYS] + list(summary_bytes(rollup).items())
    conn.executemany(
        INSERT_COLUMN, [(app_id, epoch, cursor.lastrowid, name, value) for name, value in data]
    )


def store_rollups(conn: sqlite3.Connection, app_id: int, epoch: int) -> None:
    """The rollup columns of a partition's parts stored without them (schema 2 -> 3)."""
    ids = conn.execute(
        "SELECT id FROM segments s WHERE app_id = ? AND epoch = ? AND NOT EXISTS (SELECT 1 FROM "
        "segment_columns c WHERE c.app_id = s.app_id AND c.epoch = s.epoch AND c.name = ? "
        "AND c.segment_id = s.id)",
        (app_id, epoch, NAMES[0]),
    )
    for (part_id,) in ids.fetchall():
        with reading_parts(conn, app_id, epoch, "id = ?", (part_id,)) as (part,):
            summary = summary_bytes(summarize(decode_parts([part])))
        conn.executemany(
            INSERT_COLUMN,
            [(app_id, epoch, part_id, name, data) for name, data in summary.items()],
        )


def read_rollups(
    conn: sqlite3.Connection,
    app_id: int,
    epoch: int,
    start_ms: int,
    end_ms: int,
    names: Sequence[str],
    dictionaries: Mapping,
) -> Rollups:
    """The rollups of a range's events, `names` read (call it in one transaction): the stored
    rollups of the parts of the days wholly inside the range, and one piece summarizing the
    other events (the parts of the days at its edges, cut to the range, and those pending)."""
    first, last = start_ms // MS_PER_DAY, (end_ms - 1) // MS_PER_DAY
    inner = (first + (start_ms % MS_PER_DAY != 0), last - (end_ms % MS_PER_DAY != 0))
    edges = sorted({first, last} - set(range(inner[0], inner[1] + 1)))
    marks = ", ".join("?" * len(edges)) or "NULL"
    with (
        reading_parts(conn, app_id, epoch, "day_number BETWEEN ? AND ?", inner) as whole,
        reading_parts(conn, app_id, epoch, f"day_number IN ({marks})", edges) as cut,
    ):
        pending = pending_part(conn, app_id, epoch, day_name(first), day_name(last))
        rest: Columns = decode_parts([*cut, *pending], dictionaries).between(start_ms, end_ms)
        return Rollups([*whole, summarize(rest)], dictionaries).read(names)


@contextlib.contextmanager
def reading_parts(
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
            for start in range(0, len(headers), IN_CHUNK):
                ids = [part_id for part_id, _, _ in headers[start : start + IN_CHUNK]]
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
        Part.from_header(header, first_ts, PartColumns(column, part_id))
        for part_id, first_ts, header in headers
    ]
    reading = False


class PartColumns(Mapping):
    """One part's column bytes, fetched (for every part read with it) when first asked for."""

    def __init__(self, column, part_id: int) -> None:
        self._column, self._id = column, part_id

    def __getitem__(self, name: str) -> bytes:
        return self._column(name)[self._id]

    def __iter__(self):
        return iter(ARRAYS)

    def __len__(self) -> int:
        return len(ARRAYS)


def compact(conn: sqlite3.Connection, app_id: int, epoch: int, day: int) -> None:
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
        with reading_parts(conn, app_id, epoch, f"id IN ({marks})", ids) as parts:
            merged = merge_parts(parts)
        conn.execute(f"DELETE FROM segments WHERE id IN ({marks})", ids)
        conn.execute(
            "DELETE FROM segment_columns WHERE app_id = ? AND epoch = ? "
            f"AND segment_id IN ({marks})",
            (app_id, epoch, *ids),
        )
        store_part(conn, app_id, epoch, day, level + 1, merged)
