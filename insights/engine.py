"""The answers of the insights endpoints, computed from the events of a range by columns.

Backend-neutral: every event store gives the same `Columns` (eventstore.columns), so every
backend gives the same answers. Definitions (docs/insights.md):
- metrics count events with ts in [start, end); a *session* is the set of a session id's
  events in that range; its referrer and campaign are those of its first pageview that has one,
  its entry and exit pages its first and last pageview (by time, then path), its browser, os and
  device those of its first event;
- filters select whole sessions (browser, os, device, referrer, campaign; `path`: sessions that
  viewed it, and only that path's pageviews count);
- uniques are exact (distinct codes), never sums of daily uniques.

Arrays are indexed by row (events in (ts, event_id) order) or by code (a session, visitor or
path: its index in the columns' string table).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from functools import cached_property

import numpy as np

from eventstore import Columns, strings_of
from insights.funnel import visitor_reach

LEFT = "(left)"
DIRECT = "(direct)"
UNKNOWN = "(unknown)"
_NONE = np.iinfo(np.int64).max
_DENSE_CELLS = 30_000_000  # (group x member) pairs counted with a boolean matrix below this


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _median(values: Sequence) -> float | int | None:
    return statistics.median(values) if len(values) else None


def distinct_counts(groups: np.ndarray, members: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the number of distinct members among the (group, member) pairs."""
    if not len(groups):
        return np.zeros(n_groups, dtype=np.int64)
    n_members = int(members.max()) + 1
    if n_groups * n_members <= _DENSE_CELLS:
        seen = np.zeros((n_groups, n_members), dtype=bool)
        seen[groups, members] = True
        return seen.sum(axis=1)
    counts = np.zeros(n_groups, dtype=np.int64)
    present, distinct = _distinct_by_key(groups, members)
    counts[present] = distinct
    return counts


def _unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (faster here than numpy's hash-based unique for int64)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _string_ranks(table: list[str]) -> np.ndarray:
    """rank[code]: the position of the code's string in sorted order."""
    ranks = np.empty(len(table), dtype=np.int64)
    ranks[sorted(range(len(table)), key=table.__getitem__)] = np.arange(len(table))
    return ranks


def _first_at(size: int, groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(size, _NONE, dtype=np.int64)
    np.minimum.at(out, groups, values)
    return out


def _last_at(size: int, groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(size, -1, dtype=np.int64)
    np.maximum.at(out, groups, values)
    return out


def _pick(values: np.ndarray, index: np.ndarray, found: np.ndarray, missing: int) -> np.ndarray:
    """values[index] where `found`, else `missing` (index may hold anything where not found)."""
    if not len(values):
        return np.full(len(index), missing, dtype=np.int64)
    return np.where(found, values[np.clip(index, 0, len(values) - 1)], missing)


class Scan:
    """The events of a range by columns, grouped into sessions; filters applied.

    `rows`: the events that count (filtered). Session arrays (`kept`, `first_ts`, `entry`, ...)
    are indexed by session code and describe whole sessions in the range (before the path
    filter drops other pageviews); each is computed when an endpoint first reads it."""

    def __init__(self, columns: Columns, filters: dict[str, str]) -> None:
        c = self.all_rows = columns
        self.tables = c.tables
        self.n_visitors = len(c.tables["visitor_id"])
        self.n_paths = len(c.tables["path"])
        self.n_sessions = len(c.tables["session_id"])
        self.pageview = c.code_of("type", "pageview")
        self.rows = c
        if filters:
            self.kept = self._filtered(filters)
            self.rows = c.take(self.kept[self.session])
        if "path" in filters:
            pv = self.rows.codes["type"] == self.pageview
            other = self.rows.codes["path"] != c.code_of("path", filters["path"])
            self.rows = self.rows.take(~(pv & other))

    @cached_property
    def session(self) -> np.ndarray:
        return self.all_rows.codes["session_id"]

    @cached_property
    def all_pageviews(self) -> np.ndarray:
        return self.all_rows.codes["type"] == self.pageview

    @cached_property
    def is_pv(self) -> np.ndarray:
        """Per row of `rows`: a pageview?"""
        return self.rows.codes["type"] == self.pageview

    @cached_property
    def first_row(self) -> np.ndarray:
        return _first_at(self.n_sessions, self.session, np.arange(len(self.all_rows)))

    @cached_property
    def kept(self) -> np.ndarray:
        """Per session code: has events in the range, and matches the filters."""
        return self.first_row != _NONE

    @cached_property
    def visitor(self) -> np.ndarray:
        found = self.first_row != _NONE
        return _pick(self.all_rows.codes["visitor_id"], self.first_row, found, -1)

    @cached_property
    def first_ts(self) -> np.ndarray:
        return _pick(self.all_rows.ts, self.first_row, self.first_row != _NONE, 0)

    @cached_property
    def last_ts(self) -> np.ndarray:
        return _last_at(self.n_sessions, self.session, self.all_rows.ts)

    @cached_property
    def views(self) -> np.ndarray:
        """Per session code: its pageviews (all of them, whatever the path filter)."""
        return np.bincount(self.session[self.all_pageviews], minlength=self.n_sessions)

    @cached_property
    def referrer(self) -> np.ndarray:
        return self._first_code("referrer")

    @cached_property
    def campaign(self) -> np.ndarray:
        return self._first_code("campaign")

    def _first_code(self, name: str) -> np.ndarray:
        """Per session, the code of `name` on its first pageview that has one (-1: none)."""
        c = self.all_rows
        rows = np.flatnonzero(self.all_pageviews & (c.codes[name] != c.code_of(name, "")))
        first = _first_at(self.n_sessions, self.session[rows], rows)
        return _pick(c.codes[name], first, first != _NONE, -1)

    @cached_property
    def entry_and_exit(self) -> tuple[np.ndarray, np.ndarray]:
        """Per session, the path codes of its first and last pageview by (ts, path)."""
        c = self.all_rows
        rows = np.flatnonzero(self.all_pageviews)
        s, ts = self.session[rows], c.ts[rows]
        ranks = _string_ranks(c.tables["path"])
        rank = ranks[c.codes["path"][rows]]
        code_of_rank = np.argsort(ranks)
        size = self.n_sessions
        first, last = ts == _first_at(size, s, ts)[s], ts == _last_at(size, s, ts)[s]
        entry = _first_at(size, s[first], rank[first])
        exit_ = _last_at(size, s[last], rank[last])
        return (
            _pick(code_of_rank, entry, entry != _NONE, -1),
            _pick(code_of_rank, exit_, exit_ >= 0, -1),
        )

    def _filtered(self, filters: dict[str, str]) -> np.ndarray:
        """The sessions that match every filter (a value no event has matches none)."""
        c, kept = self.all_rows, self.first_row != _NONE
        for key, value in filters.items():
            code = c.code_of(key, value)
            if key == "path":
                viewed = self.session[self.all_pageviews & (c.codes["path"] == code)]
                kept &= np.bincount(viewed, minlength=self.n_sessions) > 0
            elif key == "referrer" and value == DIRECT:
                kept &= self.referrer == -1
            elif key in ("referrer", "campaign"):
                first = self.referrer if key == "referrer" else self.campaign
                kept &= (first == code) & (code != -1)
            else:
                kept &= (_pick(c.codes[key], self.first_row, kept, -1) == code) & (code != -1)
        return kept

    def visitors(self) -> int:
        return int(np.count_nonzero(np.bincount(self.rows.codes["visitor_id"], minlength=1)))


# --- overview, pages, technology, sources -------------------------------------------------------


def overview(scan: Scan, bounds: Sequence[int]) -> dict:
    """`bounds`: the starts (epoch ms, ascending) of the series buckets."""
    rows, kept = scan.rows, scan.kept
    with_pages = kept & (scan.views > 0)
    durations = ((scan.last_ts[kept] - scan.first_ts[kept]) / 1000).tolist()
    bucket = np.searchsorted(np.asarray(bounds, dtype=np.int64), rows.ts, side="right") - 1
    inside = bucket >= 0
    views = np.bincount(bucket[inside & scan.is_pv], minlength=len(bounds))
    visitors = distinct_counts(bucket[inside], rows.codes["visitor_id"][inside], len(bounds))
    return {
        "pageviews": int(np.count_nonzero(scan.is_pv)),
        "visitors": scan.visitors(),
        "sessions": int(np.count_nonzero(kept)),
        "bounce_rate": _ratio(int(np.count_nonzero(with_pages & (scan.views == 1))),
                              int(np.count_nonzero(with_pages))),
        "avg_session_seconds": round(math.fsum(durations) / len(durations), 1)
        if durations else 0.0,
        "series": [(int(v), int(u)) for v, u in zip(views, visitors, strict=True)],
    }  # fmt: skip


def pages(scan: Scan) -> list[dict]:
    rows, pv, n = scan.rows, scan.is_pv, scan.n_paths
    paths = rows.codes["path"]
    views = np.bincount(paths[pv], minlength=n)
    visitors = distinct_counts(paths[pv], rows.codes["visitor_id"][pv], n)
    leaves = (rows.codes["type"] == rows.code_of("type", "leave")) & (
        paths != rows.code_of("path", "")
    )
    seconds = np.bincount(paths[leaves], weights=rows.duration_ms[leaves], minlength=n)
    timed = np.bincount(paths[leaves], minlength=n)
    with_pages = scan.kept & (scan.views > 0)
    entries = np.bincount(scan.entry_and_exit[0][with_pages], minlength=n)
    exits = np.bincount(scan.entry_and_exit[1][with_pages], minlength=n)
    table = scan.tables["path"]
    results = [
        {
            "path": table[code],
            "pageviews": int(views[code]),
            "visitors": int(visitors[code]),
            "avg_seconds": round(seconds[code] / timed[code] / 1000, 1) if timed[code] else None,
            "entries": int(entries[code]),
            "exits": int(exits[code]),
        }
        for code in np.flatnonzero(views)
    ]
    return sorted(results, key=lambda r: (-r["pageviews"], r["path"]))


def _names(table: list[str], blank: str) -> tuple[list[str], np.ndarray]:
    """Distinct display names of a column's strings, and each code's name index."""
    shown = [value or blank for value in table]
    names = sorted(set(shown))
    position = {name: i for i, name in enumerate(names)}
    return names, np.array([position[name] for name in shown], dtype=np.int64)


def breakdown(scan: Scan, dimension: str) -> list[dict]:
    rows = scan.rows
    names, name_of = _names(scan.tables[dimension], UNKNOWN)
    group = name_of[rows.codes[dimension]]
    visitors = distinct_counts(group, rows.codes["visitor_id"], len(names))
    views = np.bincount(group[scan.is_pv], minlength=len(names))
    results = [
        {"name": name, "visitors": int(visitors[i]), "pageviews": int(views[i])}
        for i, name in enumerate(names)
        if visitors[i]
    ]
    return sorted(results, key=lambda r: (-r["visitors"], -r["pageviews"], r["name"]))


def sources(scan: Scan, converted: np.ndarray) -> dict:
    """`converted`: per visitor code, whether they completed the funnel."""
    sessions = np.flatnonzero(scan.kept)
    visitor = scan.visitor[sessions]
    referrers = scan.tables["referrer"] + [DIRECT]
    ref = scan.referrer[sessions]
    ref = np.where(ref == -1, len(referrers) - 1, ref)
    external = np.array([not r.startswith("/") for r in referrers], dtype=bool)[ref]
    names, name_of = _names(referrers, DIRECT)
    group = name_of[ref[external]]
    ref_visitors = distinct_counts(group, visitor[external], len(names))
    campaign = scan.campaign[sessions]
    has = campaign != -1
    n = len(scan.tables["campaign"])
    camp_visitors = distinct_counts(campaign[has], visitor[has], n)
    won = has & converted[visitor] if len(converted) else has & False
    camp_conversions = distinct_counts(campaign[won], visitor[won], n)
    return {
        "referrers": sorted(
            ({"name": name, "visitors": int(ref_visitors[i])}
             for i, name in enumerate(names) if ref_visitors[i]),
            key=lambda r: (-r["visitors"], r["name"]),
        ),
        "campaigns": sorted(
            ({"name": scan.tables["campaign"][code], "visitors": int(camp_visitors[code]),
              "conversions": int(camp_conversions[code])}
             for code in np.flatnonzero(camp_visitors)),
            key=lambda r: (-r["visitors"], r["name"]),
        ),
    }  # fmt: skip


# --- funnel -------------------------------------------------------------------------------------


class Hits:
    """The events that reached a stage below n, in (visitor, ts, event_id) order."""

    def __init__(self, scan: Scan, n: int) -> None:
        rows = scan.rows
        masks = rows.stages & ((1 << n) - 1)
        picked = np.flatnonzero(masks)
        order = picked[np.argsort(rows.codes["visitor_id"][picked], kind="stable")]
        self.ts = rows.ts[order]
        self.visitor = rows.codes["visitor_id"][order]
        self.masks = masks[order]


def _ordered(hits: Hits, n: int, window_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every attempt (a stage-1 hit, in hit order) followed greedily: at each stage the earliest
    later-or-same hit of the visitor reaching it within the window (`funnel._ordered_from`,
    for all attempts at once). Returns each attempt's visitor, level and stage times."""
    starts = np.flatnonzero(hits.masks & 1)
    visitor, limit = hits.visitor[starts], hits.ts[starts] + window_ms
    times = np.zeros((len(starts), n), dtype=np.int64)
    times[:, 0] = hits.ts[starts]
    level = np.ones(len(starts), dtype=np.int64)
    pos, alive = starts, np.ones(len(starts), dtype=bool)
    for k in range(1, n):
        reaching = np.flatnonzero(hits.masks >> k & 1)
        if not len(reaching):
            break
        at = np.searchsorted(reaching, pos)
        candidate = reaching[np.minimum(at, len(reaching) - 1)]
        alive &= (at < len(reaching)) & (hits.visitor[candidate] == visitor)
        alive &= hits.ts[candidate] <= limit
        pos = np.where(alive, candidate, pos)
        times[:, k] = hits.ts[candidate]
        level += alive
    return visitor, level, times


def _group_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """Where each run of equal codes starts (a boolean mask)."""
    if not len(sorted_codes):
        return np.zeros(0, dtype=bool)
    return np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]


def _per_visitor(hits: Hits, n: int, window_ms: int, order: str):
    """strict and any: `funnel.visitor_reach` per visitor (no vectorized form)."""
    visitors, levels, times = [], [], []
    bounds = np.flatnonzero(np.diff(hits.visitor)) + 1
    for chunk in np.split(np.arange(len(hits.ts)), bounds) if len(hits.ts) else []:
        visitor_hits = [
            (int(hits.ts[i]), int(i), frozenset(s for s in range(n) if hits.masks[i] >> s & 1))
            for i in chunk
        ]
        reach = visitor_reach(visitor_hits, n=n, window_ms=window_ms, order=order)
        visitors.append(int(hits.visitor[chunk[0]]))
        levels.append(reach.level)
        times.append(reach.times)
    return visitors, levels, times


def funnel(scan: Scan, *, names: list[str], order: str, window_seconds: int) -> dict:
    """The stages with counts, conversion and median times; `levels`: per visitor code, the
    number of stages reached."""
    n, window_ms = len(names), window_seconds * 1000
    hits = Hits(scan, n)
    levels = np.zeros(scan.n_visitors, dtype=np.int64)
    gaps: dict[int, list[float]] = {k: [] for k in range(2, n + 1)}
    if order == "ordered":
        visitor, level, times = _ordered(hits, n, window_ms)
        np.maximum.at(levels, visitor, level)
        for k in range(2, n + 1):
            reached = np.flatnonzero(level >= k)
            first = reached[_group_starts(visitor[reached])]
            gaps[k] = ((times[first, k - 1] - times[first, k - 2]) / 1000).tolist()
    else:
        visitors, visitor_levels, visitor_times = _per_visitor(hits, n, window_ms, order)
        levels[visitors] = visitor_levels
        for level, path in zip(visitor_levels, visitor_times, strict=True):
            for k in range(2, level + 1):
                if k in path:
                    gaps[k].append((path[k][-1] - path[k][-2]) / 1000)
    counts = [int(np.count_nonzero(levels >= k)) for k in range(1, n + 1)]
    stages = []
    for k, name in enumerate(names, start=1):
        previous = counts[k - 2] if k > 1 else counts[0]
        median = _median(gaps[k]) if k > 1 else None
        stages.append(
            {
                "name": name,
                "visitors": counts[k - 1],
                "conversion_from_start": _ratio(counts[k - 1], counts[0]),
                "conversion_from_previous": _ratio(counts[k - 1], previous),
                "drop_off": previous - counts[k - 1] if k > 1 else 0,
                "median_seconds_from_previous": round(median, 1) if median is not None else None,
            }
        )
    return {"stages": stages, "levels": levels}


def dropoffs(scan: Scan, levels: np.ndarray, stage: int, limit: int = 100) -> list[dict]:
    """Visitors who reached stage-1 but not `stage` (1-based), with their last page."""
    rows = scan.rows
    pv = np.flatnonzero(scan.is_pv)
    last = _last_at(scan.n_visitors, rows.codes["visitor_id"][pv], pv)
    dropped = np.flatnonzero(levels == stage - 1) if stage > 1 else np.array([], dtype=np.int64)
    ts = np.where(last >= 0, rows.ts[np.maximum(last, 0)], 0) if len(rows) else last
    if len(dropped) > limit:  # the latest `limit`, and those tied with the last of them
        dropped = dropped[ts[dropped] >= np.sort(ts[dropped])[-limit]]
    codes = dropped.tolist()
    names = dict(zip(codes, strings_of(scan.tables["visitor_id"], codes), strict=True))
    chosen = sorted(names, key=lambda v: (-int(ts[v]), names[v]))[:limit]
    return [
        {
            "visitor": names[v],
            "last_page": scan.tables["path"][rows.codes["path"][last[v]]] if last[v] >= 0 else None,
            "last_seen": int(ts[v]) if last[v] >= 0 else None,
        }
        for v in chosen
    ]


# --- journeys -----------------------------------------------------------------------------------


def _page_sequences(scan: Scan, start: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The pageview paths by (ts, path) of every kept session (that viewed `start`), repeats of
    a path in a row dropped: (session code, path code) per step, sessions contiguous."""
    c = scan.all_rows
    session, is_pv = c.codes["session_id"], c.codes["type"] == scan.pageview
    wanted = scan.kept
    if start is not None:
        viewed = session[is_pv & (c.codes["path"] == c.code_of("path", start))]
        wanted = wanted & (np.bincount(viewed, minlength=len(wanted)) > 0)
    rows = np.flatnonzero(is_pv & wanted[session])
    rows = rows[np.argsort(session[rows], kind="stable")]  # by session, then (ts, event id)
    same_time = np.flatnonzero(
        (session[rows][1:] == session[rows][:-1]) & (c.ts[rows][1:] == c.ts[rows][:-1])
    )
    if len(same_time):  # pageviews of one session at one ms: by path
        rank = _string_ranks(c.tables["path"])
        tied = np.zeros(len(rows), dtype=bool)
        tied[same_time] = tied[same_time + 1] = True
        at = np.flatnonzero(tied)
        order = np.lexsort((rank[c.codes["path"][rows[at]]], c.ts[rows[at]], session[rows[at]]))
        rows[at] = rows[at][order]
    session, path = session[rows], c.codes["path"][rows]
    keep = _group_starts(session) | _group_starts(path)
    return session[keep], path[keep]


def journeys(scan: Scan, *, start: str | None, steps: int, direction: str) -> dict:
    session, path = _page_sequences(scan, start)
    if direction != "forward":
        session, path = session[::-1], path[::-1]
    if not len(session):
        return _journey_graph(np.zeros((0, steps), dtype=np.int64), session, [])
    left = len(scan.tables["path"])  # the code of the "(left)" node
    starts = np.flatnonzero(_group_starts(session))
    end_of = np.repeat(np.r_[starts[1:], len(session)], np.diff(np.r_[starts, len(session)]))
    if start is None:
        first = starts
    else:
        at = np.flatnonzero(path == scan.all_rows.code_of("path", start))
        first = at[_group_starts(session[at])]
    length = np.minimum(end_of[first] - first, steps)
    walks = np.full((len(first), steps), -1, dtype=np.int64)
    for j in range(steps):
        inside = j < length
        walks[inside, j] = path[first[inside] + j]
    short = np.flatnonzero(length < steps)
    walks[short, length[short]] = left  # visitors who stopped before `steps` pages
    visitors = scan.visitor[session[first]]
    return _journey_graph(walks, visitors, scan.tables["path"] + [LEFT])


def _unique_rows(walks: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(walks, axis=0, return_inverse=True), through one int64 key per row when the
    codes (-1 to base-2) fit."""
    if base ** walks.shape[1] >= 2**62:
        unique, inverse = np.unique(walks, axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    keys = (walks + 1) @ (base ** np.arange(walks.shape[1], dtype=np.int64))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return walks[first], inverse


def _distinct_by_key(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, and per key the number of distinct members paired with it."""
    if not len(keys):
        return keys, keys
    n_members = int(members.max()) + 1
    pairs = _unique(keys.astype(np.int64) * n_members + members)
    group = pairs // n_members
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return group[starts], np.diff(np.r_[starts, len(group)])


def _journey_graph(walks: np.ndarray, visitors: np.ndarray, names: list[str]) -> dict:
    if not len(walks):
        return {"paths": [], "nodes": [], "links": []}
    unique, walk_of = _unique_rows(walks, len(names) + 1)
    counts = distinct_counts(walk_of, visitors, len(unique))
    floor = np.sort(counts)[-20] if len(counts) > 20 else 0  # the 20th largest count
    top = sorted(
        (
            (int(counts[i]), [names[c] for c in unique[i] if c >= 0])
            for i in np.flatnonzero(counts >= floor)
        ),
        key=lambda item: (-item[0], item[1]),
    )[:20]
    width = len(names)
    step_nodes = walks + np.arange(walks.shape[1]) * width  # node key: step * width + code
    nodes, links = {}, {}
    valid = walks >= 0
    keys = step_nodes[valid]
    who = np.broadcast_to(visitors[:, None], walks.shape)[valid]
    for key, count in zip(*_distinct_by_key(keys, who), strict=True):
        nodes[(int(key) // width, names[int(key) % width])] = int(count)
    linked = valid[:, 1:] & valid[:, :-1]
    pairs = step_nodes[:, :-1][linked] * (width * walks.shape[1]) + step_nodes[:, 1:][linked]
    who = np.broadcast_to(visitors[:, None], linked.shape)[linked]
    span = width * walks.shape[1]
    for key, count in zip(*_distinct_by_key(pairs, who), strict=True):
        a, b = divmod(int(key), span)
        links[((a // width, names[a % width]), (b // width, names[b % width]))] = int(count)

    def node_id(node: tuple[int, str]) -> str:
        return f"{node[0]}:{node[1]}"

    return {
        "paths": [{"path": path, "visitors": count} for count, path in top],
        "nodes": [
            {"id": node_id(n), "name": n[1], "step": n[0], "visitors": v}
            for n, v in sorted(nodes.items())
        ],
        "links": [
            {"source": node_id(a), "target": node_id(b), "visitors": v}
            for (a, b), v in sorted(links.items())
        ],
    }


# --- elements and live --------------------------------------------------------------------------


def elements(scan: Scan, names: list[str]) -> list[dict]:
    rows = scan.rows
    is_element = rows.codes["type"] == rows.code_of("type", "element")
    results = []
    for name in names:
        mine = is_element & (rows.codes["name"] == rows.code_of("name", name))
        action = rows.codes["action"]
        clicks = np.sort(rows.duration_ms[mine & (action == rows.code_of("action", "click"))])
        leaves = np.sort(rows.duration_ms[mine & (action == rows.code_of("action", "leave"))])
        hovers = len(clicks) + len(leaves)
        results.append(
            {
                "name": name,
                "hovers": hovers,
                "clicks": len(clicks),
                "leaves": len(leaves),
                "click_through_rate": _ratio(len(clicks), hovers),
                "median_hover_ms_before_click": _median(clicks.tolist()),
                "median_hover_ms_before_leave": _median(leaves.tolist()),
            }
        )
    return results


def live(rows: Columns, stage_names: list[str], *, limit: int = 20) -> dict:
    n_visitors = len(rows.tables["visitor_id"])
    with_path = np.flatnonzero(rows.codes["path"] != rows.code_of("path", ""))
    current = _last_at(n_visitors, rows.codes["visitor_id"][with_path], with_path)
    paths = rows.codes["path"][current[current >= 0]]
    pages = np.bincount(paths, minlength=len(rows.tables["path"]))
    table = rows.tables
    latest = range(len(rows) - 1, max(len(rows) - 1 - limit, -1), -1)
    return {
        "visitors": int(np.count_nonzero(np.bincount(rows.codes["visitor_id"], minlength=1))),
        "pages": sorted(
            ({"path": table["path"][code], "visitors": int(pages[code])}
             for code in np.flatnonzero(pages)),
            key=lambda p: (-p["visitors"], p["path"]),
        ),
        "events": [
            {
                "ts": int(rows.ts[i]),
                "type": table["type"][rows.codes["type"][i]],
                "path": table["path"][rows.codes["path"][i]],
                "name": table["name"][rows.codes["name"][i]],
                "stages": [name for s, name in enumerate(stage_names) if rows.stages[i] >> s & 1],
            }
            for i in latest
        ],
    }  # fmt: skip
