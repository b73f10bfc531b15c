"""Rollups: small tables that summarize a set of events, merged exactly across disjoint sets.

A *piece* is any set of events: a column part of a store, the events still pending, the events
of a range's partial days, the filtered events of a range. Its rollup is a few tables, each a
pure function of the piece's events, that the insights merge instead of reading every event.
Merging is exact because every table keeps what a merge needs (the time and id of the event a
value came from, distinct pairs rather than counts of distinct values): uniques are never sums.

- `sessions`: a row per session: its visitor and first event (ts and id: the earliest over
  several pieces wins), last ts, pageviews, entry and exit pages (first and last pageview by
  (ts, path)), first referrer and campaign (of its first pageview that has one, with that
  pageview's ts and id);
- `visitors`: a row per (visitor, browser, os, device, UTC hour) with events: first and last ts
  (a UTC hour meets at most two buckets of any series whose buckets are hours or days, so these
  tell which buckets the visitor was in), pageviews, and the last pageview (ts, id, path);
- `paths`: a row per distinct (path, visitor) of pageviews, with their number;
- `leaves`: per path, the time on page reported by its `leave` events (sum and count);
- `minutes`: pageviews per UTC minute;
- `hits`: the events that reached a funnel stage, in (visitor, ts, event id) order;
- `elements`: the `element` events (name, action, hover time);
- `pageviews`: the pageviews (session, ts, path), in (session, ts, path) order: journeys.

String columns hold codes into the piece's tables (those of `Columns`: a list per piece, or a
store's `Dictionary`); -1 is "none". `Rollups` reads several pieces as one: every column the
concatenation of the pieces', codes mapped to one table per string column.

`sessions` and `pageviews` are computed from the events of whole sessions, the other tables
from the events that count (with a `path` filter, the sessions' other pageviews are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from .columns import STRINGS, Columns, Dictionary, Part

I64, U64, I32 = np.int64, np.uint64, np.int32
NONE_TS = np.iinfo(np.int64).max  # "no such event" in a ts column where the earliest wins
MS_PER_HOUR = 3_600_000
MS_PER_MINUTE = 60_000

# table -> column -> dtype, or the `Columns` string column its codes index
TABLES: dict[str, dict[str, type | str]] = {
    "sessions": {
        "session": "session_id", "visitor": "visitor_id", "first_ts": I64, "first_hi": U64,
        "first_lo": U64, "last_ts": I64, "views": I32, "entry_ts": I64, "entry_path": "path",
        "exit_ts": I64, "exit_path": "path", "referrer_ts": I64, "referrer_hi": U64,
        "referrer_lo": U64, "referrer": "referrer", "campaign_ts": I64, "campaign_hi": U64,
        "campaign_lo": U64, "campaign": "campaign",
    },
    "visitors": {
        "visitor": "visitor_id", "browser": "browser", "os": "os", "device": "device",
        "first_ts": I64, "last_ts": I64, "views": I32, "page_ts": I64, "page_hi": U64,
        "page_lo": U64, "page_path": "path",
    },
    "paths": {"path": "path", "visitor": "visitor_id", "views": I32},
    "leaves": {"path": "path", "leave_ms": I64, "leaves": I32},
    "minutes": {"minute": I64, "views": I32},
    "hits": {"visitor": "visitor_id", "ts": I64, "hi": U64, "lo": U64, "stages": I64},
    "elements": {"name": "name", "action": "action", "duration_ms": I64},
    "pageviews": {"session": "session_id", "ts": I64, "path": "path"},
}  # fmt: skip
NAMES = tuple(f"{table}.{column}" for table, columns in TABLES.items() for column in columns)
SESSION_TABLES = ("sessions", "pageviews")  # computed from whole sessions
# the `Columns` each table is computed from
RAW = {
    "sessions": ("session_id", "visitor_id", "ts", "id_hi", "id_lo", "type", "path", "referrer",
                 "campaign"),
    "visitors": ("visitor_id", "browser", "os", "device", "ts", "id_hi", "id_lo", "type", "path"),
    "paths": ("path", "visitor_id", "type"),
    "leaves": ("path", "type", "duration_ms"),
    "minutes": ("ts", "type"),
    "hits": ("visitor_id", "ts", "id_hi", "id_lo", "stages"),
    "elements": ("type", "name", "action", "duration_ms"),
    "pageviews": ("session_id", "ts", "type", "path"),
}  # fmt: skip


def dtype_of(name: str) -> type:
    table, column = name.split(".")
    kind = TABLES[table][column]
    return I32 if isinstance(kind, str) else kind


def raw_columns(names: Iterable[str]) -> list[str]:
    """The `Columns` the rollup columns `names` are computed from."""
    return sorted({raw for table in tables_of(names) for raw in RAW[table]})


def tables_of(names: Iterable[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in names})


# --- summarizing a piece ------------------------------------------------------------------------


def summarize(rows: Columns, sessions: Columns | None = None) -> Part:
    """The rollup of a piece, as a part whose `data` computes each table when first read.

    `rows`: the events that count, `sessions`: those of the same sessions that tables of whole
    sessions read (default: `rows`); both ordered by (ts, event_id), sharing their tables."""
    sessions = rows if sessions is None else sessions
    data = _Summary(rows, sessions)
    tables = {name: rows.tables[name] for name in STRINGS}
    coded = {name: table for name, table in tables.items() if isinstance(table, Dictionary)}
    return Part(
        n=len(rows),
        first_ts=int(rows.ts[0]) if len(rows) else 0,
        tables={name: None if name in coded else table for name, table in tables.items()},
        top={name: len(table) - 1 for name, table in coded.items()},
        data=data,
        extra={name: table.extra for name, table in coded.items()},
    )


class _Summary(Mapping):
    """Rollup columns by name ("table.column"), each table computed on first use."""

    def __init__(self, rows: Columns, sessions: Columns) -> None:
        self._rows, self._sessions = rows, sessions
        self._arrays: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            table = name.split(".")[0]
            source = self._sessions if table in SESSION_TABLES else self._rows
            computed = BUILDERS[table](source)
            for column, values in computed.items():
                self._arrays[f"{table}.{column}"] = np.ascontiguousarray(
                    values, dtype=dtype_of(f"{table}.{column}")
                )
        return self._arrays[name]

    def __iter__(self):
        return iter(NAMES)

    def __len__(self) -> int:
        return len(NAMES)


def summary_bytes(part: Part) -> dict[str, bytes]:
    """Every rollup column of a summarized part, as bytes (what a store keeps)."""
    return {name: part.data[name].tobytes() for name in NAMES}


def groups_of(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows grouped by equal keys (integer columns): each row's group (numbered in key order),
    and per group its first and last row."""
    n = len(keys[0])
    rows = np.arange(n)
    if not n:
        return rows, rows, rows
    lows = [int(values.min()) for values in keys]
    sizes = [int(values.max()) - low + 1 for values, low in zip(keys, lows, strict=True)]
    if len(keys) == 1 and sizes[0] <= 4 * n + 4096:  # codes of a store: a bitmap, no sort
        offset = keys[0] - lows[0]
        present = np.zeros(sizes[0], dtype=bool)
        present[offset] = True
        group = (np.cumsum(present) - 1)[offset]
        size = int(group.max()) + 1
        first = np.full(size, n, dtype=np.int64)
        np.minimum.at(first, group, rows)
        last = np.full(size, -1, dtype=np.int64)
        np.maximum.at(last, group, rows)
        return group, first, last
    if float(np.prod(sizes, dtype=np.float64)) < 2**62:  # one int64 key
        key = np.zeros(n, dtype=np.int64)
        for values, low, size in zip(keys, lows, sizes, strict=True):
            key = key * size + (values.astype(np.int64) - low)
        order = np.argsort(key, kind="stable")
        starts = np.r_[True, key[order][1:] != key[order][:-1]]
    else:
        order = np.lexsort(keys[::-1])
        stacked = np.stack([values[order] for values in keys])
        starts = np.r_[True, (stacked[:, 1:] != stacked[:, :-1]).any(axis=0)]
    group = np.empty(n, dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    begin = np.flatnonzero(starts)
    return group, order[begin], order[np.r_[begin[1:], n] - 1]


def _firsts(group: np.ndarray, n_groups: int, rows: np.ndarray) -> np.ndarray:
    """Per group, the smallest of `rows` (row indexes of the group's members)."""
    first = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, group, rows)
    return first


def _lasts(group: np.ndarray, n_groups: int, rows: np.ndarray) -> np.ndarray:
    last = np.full(n_groups, -1, dtype=np.int64)
    np.maximum.at(last, group, rows)
    return last


def _take(values: np.ndarray, index: np.ndarray, found: np.ndarray, missing) -> np.ndarray:
    """values[index] where `found`, else `missing`."""
    out = np.full(len(index), missing, dtype=values.dtype)
    out[found] = values[index[found]]
    return out


def _path_ranks(c: Columns) -> np.ndarray:
    table = c.tables["path"]
    ranks = np.empty(len(table), dtype=np.int64)
    ranks[sorted(range(len(table)), key=table.__getitem__)] = np.arange(len(table))
    return ranks


def _is(c: Columns, column: str, value: str) -> np.ndarray:
    return c.codes[column] == c.code_of(column, value)


def _sessions(c: Columns) -> dict[str, np.ndarray]:
    group, first, last = groups_of(c.codes["session_id"])
    n = len(first)
    pv = _is(c, "type", "pageview")
    out = {
        "session": c.codes["session_id"][first],
        "visitor": c.codes["visitor_id"][first],
        "first_ts": c.ts[first],
        "first_hi": c.id_hi[first],
        "first_lo": c.id_lo[first],
        "last_ts": c.ts[last],
        "views": np.bincount(group[pv], minlength=n),
    }
    out |= _entry_and_exit(c, group, n, pv)
    for name in ("referrer", "campaign"):
        with_value = np.flatnonzero(pv & ~_is(c, name, ""))
        row = _firsts(group[with_value], n, with_value) if len(with_value) else np.full(n, -1)
        found = (row >= 0) & (row < len(c))
        out[name] = _take(c.codes[name], row, found, -1)
        out[f"{name}_ts"] = _take(c.ts, row, found, NONE_TS)
        out[f"{name}_hi"] = _take(c.id_hi, row, found, 0)
        out[f"{name}_lo"] = _take(c.id_lo, row, found, 0)
    return out


def _entry_and_exit(c: Columns, group: np.ndarray, n: int, pv: np.ndarray) -> dict:
    """Per session, its first and last pageview by (ts, path): their ts and path codes."""
    rows = np.flatnonzero(pv)
    g, ts = group[rows], c.ts[rows]
    ranks = _path_ranks(c)
    rank = ranks[c.codes["path"][rows]]
    code_of_rank = np.argsort(ranks)
    out = {}
    for end, pick, blank in (("entry", np.minimum, NONE_TS), ("exit", np.maximum, -1)):
        at_end = np.full(n, blank, dtype=np.int64)
        pick.at(at_end, g, ts)
        on_time = ts == at_end[g]
        best = np.full(n, np.iinfo(np.int64).max if end == "entry" else -1, dtype=np.int64)
        pick.at(best, g[on_time], rank[on_time])
        found = at_end != blank
        out[f"{end}_ts"] = at_end
        out[f"{end}_path"] = _take(code_of_rank, best, found, -1)
    return out


def _visitors(c: Columns) -> dict[str, np.ndarray]:
    hour = c.ts // MS_PER_HOUR
    keys = [c.codes[name] for name in ("visitor_id", "browser", "os", "device")]
    group, first, last = groups_of(*keys, hour)
    n = len(first)
    pv = np.flatnonzero(_is(c, "type", "pageview"))
    page = _lasts(group[pv], n, pv) if len(pv) else np.full(n, -1)
    found = page >= 0
    return {
        "visitor": keys[0][first],
        "browser": keys[1][first],
        "os": keys[2][first],
        "device": keys[3][first],
        "first_ts": c.ts[first],
        "last_ts": c.ts[last],
        "views": np.bincount(group[pv], minlength=n),
        "page_ts": _take(c.ts, page, found, -1),
        "page_hi": _take(c.id_hi, page, found, 0),
        "page_lo": _take(c.id_lo, page, found, 0),
        "page_path": _take(c.codes["path"], page, found, -1),
    }


def _paths(c: Columns) -> dict[str, np.ndarray]:
    pv = np.flatnonzero(_is(c, "type", "pageview"))
    path, visitor = c.codes["path"][pv], c.codes["visitor_id"][pv]
    group, first, _ = groups_of(path, visitor)
    n = len(first)
    return {
        "path": path[first],
        "visitor": visitor[first],
        "views": np.bincount(group, minlength=n),
    }


def _leaves(c: Columns) -> dict[str, np.ndarray]:
    rows = np.flatnonzero(_is(c, "type", "leave") & ~_is(c, "path", ""))
    paths, size = c.codes["path"][rows], len(c.tables["path"])
    leaves = np.bincount(paths, minlength=size)
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, paths, c.duration_ms[rows])
    with_leaves = np.flatnonzero(leaves)
    return {"path": with_leaves, "leave_ms": total[with_leaves], "leaves": leaves[with_leaves]}


def _minutes(c: Columns) -> dict[str, np.ndarray]:
    minute = c.ts[_is(c, "type", "pageview")] // MS_PER_MINUTE  # ascending: rows are by time
    starts = np.flatnonzero(np.r_[True, minute[1:] != minute[:-1]]) if len(minute) else minute
    return {"minute": minute[starts], "views": np.diff(np.r_[starts, len(minute)])}


def _hits(c: Columns) -> dict[str, np.ndarray]:
    picked = np.flatnonzero(c.stages)
    order = picked[np.argsort(c.codes["visitor_id"][picked], kind="stable")]
    return {
        "visitor": c.codes["visitor_id"][order],
        "ts": c.ts[order],
        "hi": c.id_hi[order],
        "lo": c.id_lo[order],
        "stages": c.stages[order],
    }


def _elements(c: Columns) -> dict[str, np.ndarray]:
    rows = _is(c, "type", "element")
    return {name: c.codes[name][rows] for name in ("name", "action", "duration_ms")}


def _pageviews(c: Columns) -> dict[str, np.ndarray]:
    rows = np.flatnonzero(_is(c, "type", "pageview"))
    session, ts, path = c.codes["session_id"][rows], c.ts[rows], c.codes["path"][rows]
    order = sequence_order(session, ts, _path_ranks(c)[path])
    return {"session": session[order], "ts": ts[order], "path": path[order]}


def sequence_order(session: np.ndarray, ts: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The order of pageviews given by time that sorts them by (session, ts, path rank)."""
    order = np.argsort(session, kind="stable")  # by session, then time
    s, t = session[order], ts[order]
    tied = np.flatnonzero((s[1:] == s[:-1]) & (t[1:] == t[:-1]))
    if len(tied):  # pageviews of one session at one ms: by path
        in_tie = np.zeros(len(order), dtype=bool)
        in_tie[tied] = in_tie[tied + 1] = True
        at = np.flatnonzero(in_tie)
        rows = order[at]
        order[at] = rows[np.lexsort((rank[rows], ts[rows], session[rows]))]
    return order


BUILDERS: dict[str, Callable[[Columns], dict[str, np.ndarray]]] = {
    "sessions": _sessions,
    "visitors": _visitors,
    "paths": _paths,
    "leaves": _leaves,
    "minutes": _minutes,
    "hits": _hits,
    "elements": _elements,
    "pageviews": _pageviews,
}


# --- reading pieces as one ----------------------------------------------------------------------


class Rollups:
    """The rollups of several pieces (disjoint sets of events), read as one.

    `rollups["table.column"]`: the pieces' rows one after the other (string codes mapped to
    `tables`, one per string column); `offsets(table)`: where each piece's rows start.
    `dictionaries`: per store-coded column, its (load all, look up some) strings functions.
    `rows`: the events themselves when the rollups were computed from one set of events (a
    filtered range), else None."""

    def __init__(
        self,
        pieces: Sequence[Part],
        dictionaries: Mapping[str, tuple[Callable, Callable]] | None = None,
        rows: Columns | None = None,
    ) -> None:
        self.pieces = [piece for piece in pieces if piece.n]
        self.rows = rows
        self.cache: dict = {}  # what readers derive from these rollups, computed once
        self.tables: dict[str, list[str] | Dictionary] = {}
        self._remaps: dict[str, list[np.ndarray]] = {}
        self._arrays: dict[str, np.ndarray] = {}
        for name in STRINGS:
            self._merge_table(name, dictionaries or {})

    def _merge_table(self, name: str, dictionaries: Mapping) -> None:
        if not self.pieces:
            self.tables[name] = []
            return
        if self.pieces[0].tables[name] is None:
            size = max(piece.top[name] for piece in self.pieces) + 1
            extra = {c: v for piece in self.pieces for c, v in piece.extra.get(name, {}).items()}
            load, lookup = dictionaries.get(name, (None, None))
            self.tables[name] = Dictionary(size, load, lookup, extra)
            return
        if len(self.pieces) == 1:
            self.tables[name] = self.pieces[0].tables[name]
            return
        index: dict[str, int] = {}  # each distinct string gets one code
        self._remaps[name] = [
            np.array([index.setdefault(v, len(index)) for v in piece.tables[name]] + [-1], I32)
            for piece in self.pieces
        ]  # the last entry maps -1 ("none") to itself
        self.tables[name] = list(index)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            arrays = [self._piece(name, i) for i in range(len(self.pieces))]
            if not arrays:
                self._arrays[name] = np.zeros(0, dtype=dtype_of(name))
            else:
                self._arrays[name] = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
        return self._arrays[name]

    def _piece(self, name: str, index: int) -> np.ndarray:
        """Piece `index`'s rows of column `name` (string codes mapped to `tables`)."""
        values = np.frombuffer(self.pieces[index].data[name], dtype=dtype_of(name))
        table, column = name.split(".")
        strings = TABLES[table][column]
        if isinstance(strings, str) and strings in self._remaps:
            return self._remaps[strings][index][values]
        return values

    def rows_of(self, name: str, rows: np.ndarray) -> np.ndarray:
        """`self[name][rows]` without building the whole column: for the few rows that need a
        column (the ids that break ties between pieces, the times of sessions found in
        several), each piece's bytes are read in place."""
        if name in self._arrays or len(self.pieces) <= 1:
            return self[name][rows]
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        offsets = self.offsets(name.split(".")[0])
        bounds = np.searchsorted(ordered, offsets)
        out = np.empty(len(rows), dtype=dtype_of(name))
        for index in np.flatnonzero(np.diff(bounds)):
            at = slice(bounds[index], bounds[index + 1])
            out[order[at]] = self._piece(name, index)[ordered[at] - offsets[index]]
        return out

    def column(self, name: str) -> Column:
        """Column `name` read by rows (`column[rows]`, see `rows_of`): for keys that only
        some rows are compared by."""
        return Column(self, name)

    def offsets(self, table: str) -> np.ndarray:
        """Where each piece's rows of `table` start, and the end of the last."""
        name = f"{table}.{next(iter(TABLES[table]))}"
        sizes = [
            np.frombuffer(piece.data[name], dtype=dtype_of(name)).size for piece in self.pieces
        ]
        return np.cumsum([0, *sizes])

    def code_of(self, column: str, value: str) -> int:
        """The code of `value` in string column `column`, or -1 when no piece has it."""
        table = self.tables[column]
        if isinstance(table, Dictionary):
            raise LookupError(f"{column} is coded by the store: look values up by code")
        try:
            return table.index(value)
        except ValueError:
            return -1

    def read(self, names: Iterable[str]) -> Rollups:
        """Fetch these columns' bytes now (a store reads within its snapshot); each column is
        put together when first used."""
        for name in names:
            for piece in self.pieces:
                piece.data[name]
        return self


class Column:
    """A rollup column read by rows: `column[rows]` is `rollups.rows_of(name, rows)`."""

    def __init__(self, rollups: Rollups, name: str) -> None:
        self.rollups, self.name = rollups, name

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        return self.rollups.rows_of(self.name, rows)


def rollups_of_rows(rows: Columns, sessions: Columns | None = None) -> Rollups:
    """The rollups of one set of events (see `summarize`), keeping the events and their
    tables (a store's `Dictionary` looks its strings up)."""
    rollups = Rollups([summarize(rows, sessions)], rows=rows)
    rollups.tables.update(rows.tables)
    return rollups
