"""A brute-force second computation of every insight, over the plain list of generated events.

Written independently of `insights.engine` and `insights.funnel` (plain loops over the raw list,
exhaustive enumeration for funnels), following the definitions in docs/insights.md.
"""

from __future__ import annotations

import itertools
import statistics


def in_range(events, start_ms, end_ms):
    return [e for e in events if start_ms <= e.ts < end_ms]


def session_table(events):
    table = {}
    for e in sorted(events, key=lambda e: e.ts):
        s = table.setdefault(e.session_id, {"visitor": e.visitor_id, "events": [], "views": []})
        s["events"].append(e)
        if e.type == "pageview":
            s["views"].append(e)
    for s in table.values():
        s["views"].sort(key=lambda e: (e.ts, e.path))
        refs = [v.referrer for v in sorted(s["views"], key=lambda e: e.ts) if v.referrer]
        camps = [v.campaign for v in sorted(s["views"], key=lambda e: e.ts) if v.campaign]
        s["referrer"] = refs[0] if refs else ""
        s["campaign"] = camps[0] if camps else ""
        s["browser"], s["os"], s["device"] = (
            s["events"][0].browser, s["events"][0].os, s["events"][0].device,
        )  # fmt: skip
    return table


def apply_filters(events, filters):
    if not filters:
        return events
    table = session_table(events)
    keep = set()
    for sid, s in table.items():
        ok = True
        for key, value in filters.items():
            if key == "path":
                ok &= any(v.path == value for v in s["views"])
            elif key == "referrer":
                ok &= (s["referrer"] or "(direct)") == value
            else:
                ok &= s[key] == value
        if ok:
            keep.add(sid)
    return [e for e in events if e.session_id in keep]


def counted(events, filters):
    """With a path filter, only that path's pageviews count (sessions stay whole)."""
    path = filters.get("path")
    return [e for e in events if path is None or e.type != "pageview" or e.path == path]


def overview(events, filters=None):
    table = session_table(events)
    events = counted(events, filters or {})
    return {
        "pageviews": sum(1 for e in events if e.type == "pageview"),
        "visitors": len({e.visitor_id for e in events}),
        **session_kpis(list(table.values())),
    }


def session_kpis(sessions):
    """Sessions, bounce rate and average duration of some sessions of `session_table`."""
    with_views = [s for s in sessions if s["views"]]
    durations = [
        (max(e.ts for e in s["events"]) - min(e.ts for e in s["events"])) / 1000 for s in sessions
    ]
    return {
        "sessions": len(sessions),
        "bounce_rate": round(sum(len(s["views"]) == 1 for s in with_views) / len(with_views), 4)
        if with_views
        else 0.0,
        "avg_session_seconds": round(sum(durations) / len(durations), 1) if durations else 0.0,
    }


def sessions_by_start(events, bounds):
    """`session_kpis` of the sessions starting in each bucket (bounds: bucket starts, ms)."""
    table = session_table(events).values()
    edges = [*bounds, float("inf")]
    return [
        session_kpis([s for s in table if lo <= s["events"][0].ts < hi])
        for lo, hi in itertools.pairwise(edges)
    ]


def pages(events, filters=None):
    table = session_table(events)
    events = counted(events, filters or {})
    paths = sorted({e.path for e in events if e.type == "pageview"})
    rows = []
    for path in paths:
        views = [e for e in events if e.type == "pageview" and e.path == path]
        leaves = [e.duration_ms for e in events if e.type == "leave" and e.path == path]
        rows.append(
            {
                "path": path,
                "pageviews": len(views),
                "visitors": len({e.visitor_id for e in views}),
                "avg_seconds": round(sum(leaves) / len(leaves) / 1000, 1) if leaves else None,
                "entries": sum(
                    1 for s in table.values() if s["views"] and s["views"][0].path == path
                ),
                "exits": sum(
                    1 for s in table.values() if s["views"] and s["views"][-1].path == path
                ),
            }
        )
    return sorted(rows, key=lambda r: (-r["pageviews"], r["path"]))


def breakdown(events, dimension):
    names = {getattr(e, dimension) or "(unknown)" for e in events}
    rows = [
        {
            "name": n,
            "visitors": len(
                {e.visitor_id for e in events if (getattr(e, dimension) or "(unknown)") == n}
            ),
            "pageviews": sum(
                1
                for e in events
                if e.type == "pageview" and (getattr(e, dimension) or "(unknown)") == n
            ),
        }
        for n in names
    ]
    return sorted(rows, key=lambda r: (-r["visitors"], -r["pageviews"], r["name"]))


# --- funnels, by exhaustive enumeration ---------------------------------------------------------


def _hits(events, n):
    hits = [
        (e.ts, e.event_id, frozenset(s for s in e.stages if s < n))
        for e in events
        if any(s < n for s in e.stages)
    ]
    return sorted(hits, key=lambda h: (h[0], h[1]))


def _valid_ordered(hits, idx, window, strict):
    """idx: hit indices for stages 0..k-1, non-decreasing."""
    for stage, i in enumerate(idx):
        if stage not in hits[i][2]:
            return False
    if any(b < a for a, b in itertools.pairwise(idx)):
        return False
    if hits[idx[-1]][0] - hits[idx[0]][0] > window:
        return False
    if strict:
        for stage, (a, b) in enumerate(itertools.pairwise(idx)):
            for j in range(a + 1, b):
                if not hits[j][2] <= {stage}:
                    return False
    return True


def visitor_level(hits, n, window, order):
    """Largest k reached, and per k the lexicographically smallest valid tuple of times."""
    best, tuples = 0, {}
    for k in range(1, n + 1):
        if order == "any":
            ok = any(
                max(hits[i][0] for i in combo) - min(hits[i][0] for i in combo) <= window
                for combo in itertools.product(
                    *[[i for i, h in enumerate(hits) if s in h[2]] for s in range(k)]
                )
            )
            if not ok:
                break
            best = k
            continue
        candidates = [
            idx
            for idx in itertools.product(range(len(hits)), repeat=k)
            if _valid_ordered(hits, idx, window, order == "strict")
        ]
        if not candidates:
            break
        best = k
        tuples[k] = min(tuple(hits[i][0] for i in idx) for idx in candidates)
    return best, tuples


def funnel(events, n, window_ms, order):
    by_visitor = {}
    for e in events:
        by_visitor.setdefault(e.visitor_id, []).append(e)
    levels, gaps = {}, {k: [] for k in range(2, n + 1)}
    for visitor, evs in by_visitor.items():
        hits = _hits(evs, n)
        if not hits:
            continue
        level, tuples = visitor_level(hits, n, window_ms, order)
        levels[visitor] = level
        for k in range(2, level + 1):
            if k in tuples:
                gaps[k].append((tuples[k][-1] - tuples[k][-2]) / 1000)
    counts = [sum(1 for lv in levels.values() if lv >= k) for k in range(1, n + 1)]
    medians = [None] + [
        round(statistics.median(gaps[k]), 1) if gaps[k] else None for k in range(2, n + 1)
    ]
    return counts, medians, levels
