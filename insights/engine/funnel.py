"""The funnel report: stage reach (`reach`: every order mode vectorized), drop-offs."""

from __future__ import annotations

import numpy as np

from eventstore import Rollups, groups_of, strings_of

from .arrays import best_rows, group_starts, median, ratio, spread_codes
from .reach import REACH, Hits
from .scan import Scan, rollups_of

HITS = ("hits.visitor", "hits.ts", "hits.hi", "hits.lo", "hits.stages")
LAST_PAGES = ("visitors.visitor", "visitors.page_ts", "visitors.page_hi", "visitors.page_lo",
              "visitors.page_path")  # fmt: skip
FUNNEL, DROPOFFS = HITS, (*HITS, *LAST_PAGES)


def hits_of(r: Rollups, n: int) -> Hits:
    """The hits of stages below n, in (visitor, ts, event_id) order: each piece's rows are in
    that order, so only the rows of visitors found in several pieces are sorted again."""
    visitor, stages = r["hits.visitor"], r["hits.stages"] & ((1 << n) - 1)
    spread = spread_codes(visitor, r.offsets("hits"))
    counted = stages != 0
    rows = np.flatnonzero(counted & spread)
    ts = r["hits.ts"]
    ids = r.column("hits.lo")[rows], r.column("hits.hi")[rows]
    rows = rows[np.lexsort((*ids, ts[rows], visitor[rows]))]
    order = np.r_[np.flatnonzero(counted & ~spread), rows]
    return Hits(ts[order], visitor[order], stages[order])


def levels(source: Scan | Rollups, *, n: int, order: str, window_seconds: int) -> np.ndarray:
    """Per visitor code, the number of stages of an n-stage funnel reached."""
    r = rollups_of(source)
    visitor, level, _ = REACH[order](hits_of(r, n), n, window_seconds * 1000, timed=False)
    return _per_visitor(r, visitor, level)


def _per_visitor(r: Rollups, visitor: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per visitor code, the highest level of their attempts."""
    reached = np.zeros(len(r.tables["visitor_id"]), dtype=np.int64)
    np.maximum.at(reached, visitor, level)
    return reached


def funnel(source: Scan | Rollups, *, names: list[str], order: str, window_seconds: int) -> dict:
    """The stages with counts, conversion and median times; `levels`: per visitor code, the
    number of stages reached."""
    r = rollups_of(source)
    n, window_ms = len(names), window_seconds * 1000
    visitor, level, gaps = REACH[order](hits_of(r, n), n, window_ms)
    levels = _per_visitor(r, visitor, level)
    medians: dict[int, float | None] = {}
    for k in range(2, n + 1):
        reached = np.flatnonzero(level >= k)
        first = reached[group_starts(visitor[reached])]  # each visitor's first attempt
        medians[k] = median(gaps[first, k - 1] / 1000) if gaps is not None else None
    counts = [int(np.count_nonzero(levels >= k)) for k in range(1, n + 1)]
    stages = []
    for k, name in enumerate(names, start=1):
        previous = counts[k - 2] if k > 1 else counts[0]
        middle = medians[k] if k > 1 else None
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


def dropoffs(source: Scan | Rollups, levels: np.ndarray, stage: int, limit: int = 100) -> list:
    """Visitors who reached stage-1 but not `stage` (1-based), with their last page."""
    r = rollups_of(source)
    visitor, page_ts = r["visitors.visitor"], r["visitors.page_ts"]
    group, first, _ = groups_of(visitor)
    keys = [page_ts, r.column("visitors.page_hi"), r.column("visitors.page_lo")]
    best = best_rows(group, len(first), keys, page_ts >= 0, largest=True)
    seen = best >= 0
    n_visitors = len(r.tables["visitor_id"])
    ts, path = np.zeros(n_visitors, dtype=np.int64), np.full(n_visitors, -1, dtype=np.int64)
    ts[visitor[first[seen]]] = page_ts[best[seen]]
    path[visitor[first[seen]]] = r["visitors.page_path"][best[seen]]
    dropped = np.flatnonzero(levels == stage - 1) if stage > 1 else np.array([], dtype=np.int64)
    if len(dropped) > limit:  # the latest `limit`, and those tied with the last of them
        dropped = dropped[ts[dropped] >= np.sort(ts[dropped])[-limit]]
    codes = dropped.tolist()
    names = dict(zip(codes, strings_of(r.tables["visitor_id"], codes), strict=True))
    chosen = sorted(names, key=lambda v: (-int(ts[v]), names[v]))[:limit]
    return [
        {
            "visitor": names[v],
            "last_page": r.tables["path"][path[v]] if path[v] >= 0 else None,
            "last_seen": int(ts[v]) if path[v] >= 0 else None,
        }
        for v in chosen
    ]
