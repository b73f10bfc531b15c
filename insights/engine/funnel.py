"""The funnel report: stage reach (ordered, vectorized; strict and any per visitor), drop-offs."""

from __future__ import annotations

import numpy as np

from eventstore import strings_of
from insights.funnel import visitor_reach

from .arrays import group_starts, last_at, median, ratio
from .scan import Scan


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
            first = reached[group_starts(visitor[reached])]
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
        middle = median(gaps[k]) if k > 1 else None
        stages.append(
            {
                "name": name,
                "visitors": counts[k - 1],
                "conversion_from_start": ratio(counts[k - 1], counts[0]),
                "conversion_from_previous": ratio(counts[k - 1], previous),
                "drop_off": previous - counts[k - 1] if k > 1 else 0,
                "median_seconds_from_previous": round(middle, 1) if middle is not None else None,
            }
        )
    return {"stages": stages, "levels": levels}


def dropoffs(scan: Scan, levels: np.ndarray, stage: int, limit: int = 100) -> list[dict]:
    """Visitors who reached stage-1 but not `stage` (1-based), with their last page."""
    rows = scan.rows
    pv = np.flatnonzero(scan.is_pv)
    last = last_at(scan.n_visitors, rows.codes["visitor_id"][pv], pv)
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
