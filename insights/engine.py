"""The answers of the insights endpoints, computed from scanned event rows.

Backend-neutral: every event store yields the same rows (`ingest.eventstore.base.ScanRow`), so
every backend gives the same answers. Definitions (docs/insights.md):
- metrics count events with ts in [start, end); a *session* is the set of a session id's
  events in that range; its referrer and campaign are those of its first pageview that has one,
  its entry and exit pages its first and last pageview;
- filters select whole sessions (browser, os, device, referrer, campaign; `path`: sessions that
  viewed it, and only that path's pageviews count);
- uniques are exact (sets), never sums of daily uniques.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingest.eventstore.base import ScanRow
from insights.funnel import Hit, visitor_reach

LEFT = "(left)"
DIRECT = "(direct)"
UNKNOWN = "(unknown)"


@dataclass
class Session:
    visitor: str
    first_ts: int
    last_ts: int = 0
    browser: str = ""
    os: str = ""
    device: str = ""
    referrer: str = ""
    referrer_ts: int = 0
    campaign: str = ""
    campaign_ts: int = 0
    pages: list[tuple[int, str]] = field(default_factory=list)  # (ts, path) of pageviews


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


class Scan:
    """One pass over the rows of a range, grouped into sessions; filters applied."""

    def __init__(self, rows: Iterable[ScanRow], filters: dict[str, str]) -> None:
        self.rows: list[ScanRow] = []
        self.sessions: dict[str, Session] = {}
        for row in rows:
            self.rows.append(row)
            self._add(row)
        for session in self.sessions.values():
            session.pages.sort()
        if filters:
            keep = {sid for sid, s in self.sessions.items() if _matches(s, filters)}
            self.sessions = {sid: self.sessions[sid] for sid in keep}
            self.rows = [r for r in self.rows if r.session_id in keep]
            if "path" in filters:
                self.rows = [
                    r for r in self.rows if r.type != "pageview" or r.path == filters["path"]
                ]

    def _add(self, row: ScanRow) -> None:
        session = self.sessions.get(row.session_id)
        if session is None:
            session = self.sessions[row.session_id] = Session(
                visitor=row.visitor_id, first_ts=row.ts, last_ts=row.ts,
                browser=row.browser, os=row.os, device=row.device,
            )  # fmt: skip
        session.first_ts = min(session.first_ts, row.ts)
        session.last_ts = max(session.last_ts, row.ts)
        if row.type == "pageview":
            session.pages.append((row.ts, row.path))
            if row.referrer and (not session.referrer or row.ts < session.referrer_ts):
                session.referrer, session.referrer_ts = row.referrer, row.ts
            if row.campaign and (not session.campaign or row.ts < session.campaign_ts):
                session.campaign, session.campaign_ts = row.campaign, row.ts

    def pageviews(self) -> list[ScanRow]:
        return [r for r in self.rows if r.type == "pageview"]


def _matches(session: Session, filters: dict[str, str]) -> bool:
    for key, value in filters.items():
        if key == "path":
            if not any(path == value for _, path in session.pages):
                return False
        elif key == "referrer":
            if (session.referrer or DIRECT) != value:
                return False
        elif getattr(session, key) != value:
            return False
    return True


# --- overview, pages, technology, sources -------------------------------------------------------


def overview(scan: Scan, bucket_of: Callable[[int], int]) -> dict:
    pageviews = scan.pageviews()
    with_pages = [s for s in scan.sessions.values() if s.pages]
    bounces = sum(1 for s in with_pages if len(s.pages) == 1)
    durations = [(s.last_ts - s.first_ts) / 1000 for s in scan.sessions.values()]
    series_views: Counter[int] = Counter()
    series_visitors: dict[int, set[str]] = defaultdict(set)
    for row in scan.rows:
        bucket = bucket_of(row.ts)
        series_visitors[bucket].add(row.visitor_id)
        if row.type == "pageview":
            series_views[bucket] += 1
    return {
        "pageviews": len(pageviews),
        "visitors": len({r.visitor_id for r in scan.rows}),
        "sessions": len(scan.sessions),
        "bounce_rate": _ratio(bounces, len(with_pages)),
        "avg_session_seconds": round(statistics.fmean(durations), 1) if durations else 0.0,
        "buckets": {b: (series_views[b], len(v)) for b, v in series_visitors.items()},
    }


def pages(scan: Scan) -> list[dict]:
    views: Counter[str] = Counter()
    visitors: dict[str, set[str]] = defaultdict(set)
    seconds: dict[str, list[int]] = defaultdict(list)
    for row in scan.rows:
        if row.type == "pageview":
            views[row.path] += 1
            visitors[row.path].add(row.visitor_id)
        elif row.type == "leave" and row.path:
            seconds[row.path].append(row.duration_ms)
    entries = Counter(s.pages[0][1] for s in scan.sessions.values() if s.pages)
    exits = Counter(s.pages[-1][1] for s in scan.sessions.values() if s.pages)
    results = [
        {
            "path": path,
            "pageviews": count,
            "visitors": len(visitors[path]),
            "avg_seconds": round(statistics.fmean(seconds[path]) / 1000, 1)
            if seconds[path]
            else None,
            "entries": entries[path],
            "exits": exits[path],
        }
        for path, count in views.items()
    ]
    return sorted(results, key=lambda r: (-r["pageviews"], r["path"]))


def breakdown(scan: Scan, dimension: str) -> list[dict]:
    visitors: dict[str, set[str]] = defaultdict(set)
    views: Counter[str] = Counter()
    for row in scan.rows:
        name = getattr(row, dimension) or UNKNOWN
        visitors[name].add(row.visitor_id)
        if row.type == "pageview":
            views[name] += 1
    results = [{"name": n, "visitors": len(v), "pageviews": views[n]} for n, v in visitors.items()]
    return sorted(results, key=lambda r: (-r["visitors"], -r["pageviews"], r["name"]))


def sources(scan: Scan, converted: set[str]) -> dict:
    referrers: dict[str, set[str]] = defaultdict(set)
    campaigns: dict[str, set[str]] = defaultdict(set)
    for session in scan.sessions.values():
        if not session.referrer.startswith("/"):  # internal navigation is not a source
            referrers[session.referrer or DIRECT].add(session.visitor)
        if session.campaign:
            campaigns[session.campaign].add(session.visitor)
    return {
        "referrers": sorted(
            ({"name": n, "visitors": len(v)} for n, v in referrers.items()),
            key=lambda r: (-r["visitors"], r["name"]),
        ),
        "campaigns": sorted(
            (
                {"name": n, "visitors": len(v), "conversions": len(v & converted)}
                for n, v in campaigns.items()
            ),
            key=lambda r: (-r["visitors"], r["name"]),
        ),
    }


# --- funnel -------------------------------------------------------------------------------------


def hits_by_visitor(scan: Scan, n: int) -> dict[str, list[Hit]]:
    hits: dict[str, list[Hit]] = defaultdict(list)
    for row in scan.rows:
        stages = frozenset(s for s in row.stages if s < n)
        if stages:
            hits[row.visitor_id].append((row.ts, row.event_id, stages))
    for visitor_hits in hits.values():
        visitor_hits.sort(key=lambda h: (h[0], h[1]))
    return hits


def funnel(scan: Scan, *, names: list[str], order: str, window_seconds: int) -> dict:
    n = len(names)
    reaches = {
        visitor: visitor_reach(h, n=n, window_ms=window_seconds * 1000, order=order)
        for visitor, h in hits_by_visitor(scan, n).items()
    }
    counts = [sum(1 for r in reaches.values() if r.level >= k) for k in range(1, n + 1)]
    stages = []
    for k, name in enumerate(names, start=1):
        previous = counts[k - 2] if k > 1 else counts[0]
        gaps = [
            (r.times[k][-1] - r.times[k][-2]) / 1000
            for r in reaches.values()
            if k > 1 and r.level >= k and k in r.times
        ]
        stages.append(
            {
                "name": name,
                "visitors": counts[k - 1],
                "conversion_from_start": _ratio(counts[k - 1], counts[0]),
                "conversion_from_previous": _ratio(counts[k - 1], previous),
                "drop_off": previous - counts[k - 1] if k > 1 else 0,
                "median_seconds_from_previous": round(statistics.median(gaps), 1) if gaps else None,
            }
        )
    return {"stages": stages, "levels": {v: r.level for v, r in reaches.items()}}


def dropoffs(scan: Scan, levels: dict[str, int], stage: int, limit: int = 100) -> list[dict]:
    """Visitors who reached stage-1 but not `stage` (1-based), with their last page."""
    last: dict[str, tuple[int, str]] = {}
    for row in scan.rows:
        if row.type == "pageview" and row.ts >= last.get(row.visitor_id, (-1, ""))[0]:
            last[row.visitor_id] = (row.ts, row.path)
    dropped = [v for v, level in levels.items() if level == stage - 1]
    dropped.sort(key=lambda v: (-last.get(v, (0, ""))[0], v))
    return [
        {"visitor": v, "last_page": last.get(v, (0, None))[1], "last_seen": last.get(v, (None,))[0]}
        for v in dropped[:limit]
    ]


# --- journeys -----------------------------------------------------------------------------------


def _page_sequences(scan: Scan) -> list[tuple[str, list[str]]]:
    sequences = []
    for session in scan.sessions.values():
        paths: list[str] = []
        for _, path in session.pages:
            if not paths or paths[-1] != path:
                paths.append(path)
        if paths:
            sequences.append((session.visitor, paths))
    return sequences


def journeys(scan: Scan, *, start: str | None, steps: int, direction: str) -> dict:
    walks: list[tuple[str, list[str]]] = []
    for visitor, paths in _page_sequences(scan):
        ordered = paths if direction == "forward" else paths[::-1]
        if start is None:
            index = 0
        elif start in ordered:
            index = ordered.index(start)
        else:
            continue
        walk = ordered[index : index + steps]
        if len(walk) < steps:
            walk = [*walk, LEFT]
        walks.append((visitor, walk))
    return _journey_graph(walks)


def _journey_graph(walks: list[tuple[str, list[str]]]) -> dict:
    path_visitors: dict[tuple[str, ...], set[str]] = defaultdict(set)
    node_visitors: dict[tuple[int, str], set[str]] = defaultdict(set)
    link_visitors: dict[tuple[tuple[int, str], tuple[int, str]], set[str]] = defaultdict(set)
    for visitor, walk in walks:
        path_visitors[tuple(walk)].add(visitor)
        nodes = list(enumerate(walk))
        for node in nodes:
            node_visitors[node].add(visitor)
        for a, b in itertools.pairwise(nodes):
            link_visitors[(a, b)].add(visitor)

    def node_id(node: tuple[int, str]) -> str:
        return f"{node[0]}:{node[1]}"

    top = sorted(path_visitors.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    return {
        "paths": [{"path": list(p), "visitors": len(v)} for p, v in top],
        "nodes": [
            {"id": node_id(n), "name": n[1], "step": n[0], "visitors": len(v)}
            for n, v in sorted(node_visitors.items())
        ],
        "links": [
            {"source": node_id(a), "target": node_id(b), "visitors": len(v)}
            for (a, b), v in sorted(link_visitors.items())
        ],
    }


# --- elements and live --------------------------------------------------------------------------


def elements(scan: Scan, names: list[str]) -> list[dict]:
    durations: dict[str, dict[str, list[int]]] = {n: {"click": [], "leave": []} for n in names}
    for row in scan.rows:
        if row.type == "element" and row.name in durations and row.action in ("click", "leave"):
            durations[row.name][row.action].append(row.duration_ms)
    results = []
    for name in names:
        clicks, leaves = durations[name]["click"], durations[name]["leave"]
        hovers = len(clicks) + len(leaves)
        results.append(
            {
                "name": name,
                "hovers": hovers,
                "clicks": len(clicks),
                "leaves": len(leaves),
                "click_through_rate": _ratio(len(clicks), hovers),
                "median_hover_ms_before_click": statistics.median(clicks) if clicks else None,
                "median_hover_ms_before_leave": statistics.median(leaves) if leaves else None,
            }
        )
    return results


def live(rows: list[ScanRow], stage_names: list[str], *, limit: int = 20) -> dict:
    current: dict[str, tuple[int, str]] = {}
    for row in rows:
        if row.path and row.ts >= current.get(row.visitor_id, (-1, ""))[0]:
            current[row.visitor_id] = (row.ts, row.path)
    pages = Counter(path for _, path in current.values())
    latest = sorted(rows, key=lambda r: (r.ts, r.event_id), reverse=True)[:limit]
    return {
        "visitors": len({r.visitor_id for r in rows}),
        "pages": [{"path": p, "visitors": n} for p, n in pages.most_common()],
        "events": [
            {
                "ts": r.ts,
                "type": r.type,
                "path": r.path,
                "name": r.name,
                "stages": [stage_names[s] for s in r.stages if s < len(stage_names)],
            }
            for r in latest
        ],
    }
