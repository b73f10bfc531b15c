"""Traffic reports: the overview (KPIs and series), pages, technology breakdowns, sources."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from eventstore import Rollups

from .arrays import DIRECT, UNKNOWN, distinct_counts, distinct_pair_counts, ratio
from .scan import Scan, rollups_of
from .sessions import ENTRY_EXIT, FIRST_CODES, KPIS, VISITOR, sessions

MS_PER_MINUTE, MS_PER_HOUR = 60_000, 3_600_000
VISITS = ("visitors.visitor", "visitors.first_ts", "visitors.last_ts")
# the rollup columns each report reads
OVERVIEW = (*KPIS, *VISITS, "minutes.minute", "minutes.views")
PAGES = (*ENTRY_EXIT, "paths.path", "paths.visitor", "paths.views", "leaves.path",
         "leaves.leave_ms", "leaves.leaves")  # fmt: skip
TECHNOLOGY = ("visitors.visitor", "visitors.views", "visitors.browser", "visitors.os",
              "visitors.device")  # fmt: skip
SOURCES = (*VISITOR, *FIRST_CODES)  # and the funnel's


def series_fits(bounds: Sequence[int]) -> bool:
    """Whether rollups give this series exactly: every bound on a whole minute (pageviews are
    counted per minute), and no UTC hour with two bounds inside it (a visitor's rows span a UTC
    hour at most, so each meets at most two buckets: those of its first and last events)."""
    bounds = np.asarray(bounds, dtype=np.int64)
    if (bounds % MS_PER_MINUTE).any():
        return False
    inner = bounds[bounds % MS_PER_HOUR != 0] // MS_PER_HOUR
    return len(np.unique(inner)) == len(inner)


def overview(source: Scan | Rollups, bounds: Sequence[int]) -> dict:
    """`bounds`: the starts (epoch ms, ascending) of the series buckets. A session counts in
    the bucket where it starts."""
    r = rollups_of(source)
    s = sessions(r)
    bounds = np.asarray(bounds, dtype=np.int64)
    views, visitors = _series(r, bounds)
    started = np.searchsorted(bounds, s.first_ts, side="right") - 1
    everyone = np.arange(s.n)
    series = [
        {"pageviews": int(v), "visitors": int(u), **_sessions_kpis(s, everyone[started == b])}
        for b, (v, u) in enumerate(zip(views, visitors, strict=True))
    ]
    return {
        "pageviews": int(r["minutes.views"].sum()),
        "visitors": _distinct(r["visitors.visitor"]),
        **_sessions_kpis(s, everyone),
        "series": series,
    }


def _distinct(codes: np.ndarray) -> int:
    return int(np.count_nonzero(np.bincount(codes, minlength=1)))


def _series(r: Rollups, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pageviews and visitors per bucket."""
    if r.rows is not None and not series_fits(bounds):  # from the events themselves
        rows = r.rows
        bucket = np.searchsorted(bounds, rows.ts, side="right") - 1
        pv = rows.codes["type"] == rows.code_of("type", "pageview")
        views = np.bincount(bucket[pv & (bucket >= 0)], minlength=len(bounds))
        inside = bucket >= 0
        members = rows.codes["visitor_id"][inside]
        return views, distinct_counts(bucket[inside], members, len(bounds))
    assert series_fits(bounds), "rollups cannot give this series: read the events"
    minute = np.searchsorted(bounds, r["minutes.minute"] * MS_PER_MINUTE, side="right") - 1
    counted = minute >= 0
    views = np.bincount(minute[counted], weights=r["minutes.views"][counted], minlength=len(bounds))
    visitor = r["visitors.visitor"]
    ends = np.r_[r["visitors.first_ts"], r["visitors.last_ts"]]
    bucket = np.searchsorted(bounds, ends, side="right") - 1
    inside = bucket >= 0
    visitors = distinct_counts(bucket[inside], np.r_[visitor, visitor][inside], len(bounds))
    return views.astype(np.int64), visitors


def _sessions_kpis(s, chosen: np.ndarray) -> dict:
    """Sessions, bounce rate and average duration of some sessions (indexes)."""
    views = s.views[chosen]
    durations = ((s.last_ts[chosen] - s.first_ts[chosen]) / 1000).tolist()
    return {
        "sessions": len(chosen),
        "bounce_rate": ratio(int(np.count_nonzero(views == 1)), int(np.count_nonzero(views))),
        "avg_session_seconds": round(math.fsum(durations) / len(durations), 1)
        if durations
        else 0.0,
    }


def pages(source: Scan | Rollups) -> list[dict]:
    r = rollups_of(source)
    s, table = sessions(r), r.tables["path"]
    n = len(table)
    path = r["paths.path"]
    views = np.bincount(path, weights=r["paths.views"], minlength=n).astype(np.int64)
    visitors = distinct_pair_counts(path, r["paths.visitor"], n, r.offsets("paths"))
    timed_path = r["leaves.path"]
    seconds = np.zeros(n, dtype=np.int64)
    np.add.at(seconds, timed_path, r["leaves.leave_ms"])
    timed = np.bincount(timed_path, weights=r["leaves.leaves"], minlength=n).astype(np.int64)
    entry, exit_ = s.entry_and_exit
    with_pages = s.views > 0
    entries = np.bincount(entry[with_pages], minlength=n)
    exits = np.bincount(exit_[with_pages], minlength=n)
    results = [
        {
            "path": table[code],
            "pageviews": int(views[code]),
            "visitors": int(visitors[code]),
            # Python numbers: numpy rounds ties of the binary value (37.55 -> 37.6), Python
            # rounds the value itself (37.549999... -> 37.5)
            "avg_seconds": round(int(seconds[code]) / int(timed[code]) / 1000, 1)
            if timed[code]
            else None,
            "entries": int(entries[code]),
            "exits": int(exits[code]),
        }
        for code in np.flatnonzero(views)
    ]
    return sorted(results, key=lambda r: (-r["pageviews"], r["path"]))


def _names(table: Sequence[str], blank: str) -> tuple[list[str], np.ndarray]:
    """Distinct display names of a column's strings, and each code's name index."""
    shown = [value or blank for value in table]
    names = sorted(set(shown))
    position = {name: i for i, name in enumerate(names)}
    return names, np.array([position[name] for name in shown], dtype=np.int64)


def breakdown(source: Scan | Rollups, dimension: str) -> list[dict]:
    r = rollups_of(source)
    names, name_of = _names(r.tables[dimension], UNKNOWN)
    group = name_of[r[f"visitors.{dimension}"]]
    visitors = distinct_counts(group, r["visitors.visitor"], len(names))
    views = np.bincount(group, weights=r["visitors.views"], minlength=len(names))
    results = [
        {"name": name, "visitors": int(visitors[i]), "pageviews": int(views[i])}
        for i, name in enumerate(names)
        if visitors[i]
    ]
    return sorted(results, key=lambda r: (-r["visitors"], -r["pageviews"], r["name"]))


def sources(source: Scan | Rollups, converted: np.ndarray) -> dict:
    """`converted`: per visitor code, whether they completed the funnel."""
    r = rollups_of(source)
    s = sessions(r)
    visitor = s.visitor
    referrers = [*r.tables["referrer"], DIRECT]
    ref = np.where(s.referrer == -1, len(referrers) - 1, s.referrer)
    external = np.array([not name.startswith("/") for name in referrers], dtype=bool)[ref]
    names, name_of = _names(referrers, DIRECT)
    group = name_of[ref[external]]
    ref_visitors = distinct_counts(group, visitor[external], len(names))
    campaign = s.campaign
    has = campaign != -1
    n = len(r.tables["campaign"])
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
            ({"name": r.tables["campaign"][code], "visitors": int(camp_visitors[code]),
              "conversions": int(camp_conversions[code])}
             for code in np.flatnonzero(camp_visitors)),
            key=lambda row: (-row["visitors"], row["name"]),
        ),
    }  # fmt: skip
