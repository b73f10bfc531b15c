"""Traffic reports: the overview (KPIs and series), pages, technology breakdowns, sources."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .arrays import DIRECT, UNKNOWN, distinct_counts, ratio
from .scan import Scan


def overview(scan: Scan, bounds: Sequence[int]) -> dict:
    """`bounds`: the starts (epoch ms, ascending) of the series buckets. A session counts in
    the bucket where it starts."""
    rows, kept = scan.rows, scan.kept
    bounds = np.asarray(bounds, dtype=np.int64)
    bucket = np.searchsorted(bounds, rows.ts, side="right") - 1
    inside = bucket >= 0
    views = np.bincount(bucket[inside & scan.is_pv], minlength=len(bounds))
    visitors = distinct_counts(bucket[inside], rows.codes["visitor_id"][inside], len(bounds))
    sessions = np.flatnonzero(kept)
    started = np.searchsorted(bounds, scan.first_ts[sessions], side="right") - 1
    series = [
        {"pageviews": int(v), "visitors": int(u), **_sessions_kpis(scan, sessions[started == b])}
        for b, (v, u) in enumerate(zip(views, visitors, strict=True))
    ]
    return {
        "pageviews": int(np.count_nonzero(scan.is_pv)),
        "visitors": scan.visitors(),
        **_sessions_kpis(scan, sessions),
        "series": series,
    }


def _sessions_kpis(scan: Scan, sessions: np.ndarray) -> dict:
    """Sessions, bounce rate and average duration of some sessions (codes)."""
    views = scan.views[sessions]
    durations = ((scan.last_ts[sessions] - scan.first_ts[sessions]) / 1000).tolist()
    return {
        "sessions": len(sessions),
        "bounce_rate": ratio(int(np.count_nonzero(views == 1)), int(np.count_nonzero(views))),
        "avg_session_seconds": round(math.fsum(durations) / len(durations), 1)
        if durations
        else 0.0,
    }


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
            # Python floats: numpy rounds ties of the binary value (37.55 -> 37.6), Python
            # rounds the value itself (37.549999... -> 37.5)
            "avg_seconds": round(float(seconds[code]) / int(timed[code]) / 1000, 1)
            if timed[code]
            else None,
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
