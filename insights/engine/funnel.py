"""The funnel report: stage reach (`reach`: every order mode vectorized), drop-offs."""

from __future__ import annotations

import numpy as np

from eventstore import strings_of

from .arrays import group_starts, last_at, median, ratio
from .reach import REACH, Hits
from .scan import Scan


def funnel(scan: Scan, *, names: list[str], order: str, window_seconds: int) -> dict:
    """The stages with counts, conversion and median times; `levels`: per visitor code, the
    number of stages reached."""
    n, window_ms = len(names), window_seconds * 1000
    rows = scan.rows
    hits = Hits.of(rows.ts, rows.codes["visitor_id"], rows.stages, n)
    visitor, level, gaps = REACH[order](hits, n, window_ms)
    levels = np.zeros(scan.n_visitors, dtype=np.int64)
    np.maximum.at(levels, visitor, level)
    medians: dict[int, float | None] = {}
    for k in range(2, n + 1):
        reached = np.flatnonzero(level >= k)
        first = reached[group_starts(visitor[reached])]  # each visitor's first attempt
        medians[k] = median((gaps[first, k - 1] / 1000).tolist()) if gaps is not None else None
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
