"""The insights: each answer reads the range's events by columns from the event store, then
runs the engine.

Only users who may view the app get here (views resolve the app through `app_visible_to`).
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from eventstore import Rollups, get_store
from eventstore.rollups import raw_columns
from funnels.selectors import config_for_epoch
from insights import engine
from insights.query import InsightQuery, parse_query

LIVE_WINDOW_MS = 5 * 60 * 1000


SESSIONS = ("type", "session_id", "visitor_id")
FILTERED = (*SESSIONS, "path", "referrer", "campaign", "browser", "os", "device")


def _scan(q: InsightQuery, *reads: str) -> engine.Scan:
    """The range's events, with the columns the rollup columns `reads` are computed from (and
    those the filters need)."""
    wanted = {"ts", *raw_columns(reads), *(FILTERED if q.filters else ())}
    columns = get_store().columns(q.app.pk, q.epoch, q.start_ms, q.end_ms, names=sorted(wanted))
    return engine.Scan(columns, q.filters)


def _source(q: InsightQuery, *reads: str) -> engine.Scan | Rollups:
    """What a report reads: the store's rollups of the range (the rollup columns `reads`), or
    with filters, a scan of its events."""
    if q.filters:
        return _scan(q, *reads)
    return get_store().rollups(q.app.pk, q.epoch, q.start_ms, q.end_ms, reads)


def _overview_source(q: InsightQuery, buckets: list[int]) -> engine.Scan | Rollups:
    """The rollups give a series whose buckets fit them (`engine.series_fits`), else a scan."""
    if engine.series_fits(buckets):
        return _source(q, *engine.OVERVIEW)
    return _scan(q, *engine.OVERVIEW)


def _funnel_config(q: InsightQuery) -> dict:
    return config_for_epoch(q.app, q.epoch)["funnel"]


def overview(q: InsightQuery, *, compare: bool = False) -> dict:
    """The KPIs and their series; with `compare`, the KPIs of the previous period too."""
    buckets = q.buckets()
    result = engine.overview(_overview_source(q, buckets), buckets)
    result["series"] = [
        {"t": q.label(bucket), **point}
        for bucket, point in zip(buckets, result["series"], strict=True)
    ]
    result["interval"] = "hour" if q.hourly else "day"
    if compare:
        before = q.previous()
        kpis = engine.overview(_source(before, *engine.OVERVIEW), [])
        del kpis["series"]
        result["previous"] = {
            "from": before.first_day.isoformat(),
            "to": before.last_day.isoformat(),
            **kpis,
        }
    return result


def apps_today(apps) -> list[dict]:
    """Per app: today's visitors and page views (in the app's time zone) and its visitors of
    the last five minutes; for the apps list."""
    results = []
    for app in apps:
        today = parse_query(app, {})
        today = dataclasses.replace(today, first_day=today.last_day)
        scan = _scan(today, *engine.OVERVIEW)
        results.append(
            {
                "app": app.pk,
                "visitors_today": scan.visitors(),
                "pageviews_today": int(np.count_nonzero(scan.is_pv)),
                "visitors_now": _visitors_now(today),
            }
        )
    return results


def pages(q: InsightQuery) -> dict:
    return {"results": engine.pages(_source(q, *engine.PAGES))}


def technology(q: InsightQuery) -> dict:
    scan = _source(q, *engine.TECHNOLOGY)
    return {
        "browsers": engine.breakdown(scan, "browser"),
        "os": engine.breakdown(scan, "os"),
        "devices": engine.breakdown(scan, "device"),
    }


def _levels(scan: engine.Scan | Rollups, funnel: dict) -> np.ndarray:
    """Per visitor code, how many stages of the funnel they reached."""
    n = len(funnel["stages"])
    if not n:
        return np.zeros(len(engine.rollups_of(scan).tables["visitor_id"]), dtype=np.int64)
    return engine.levels(scan, n=n, order=funnel["order"], window_seconds=funnel["window_seconds"])


def sources(q: InsightQuery) -> dict:
    scan = _source(q, *engine.SOURCES, *engine.FUNNEL)
    funnel = _funnel_config(q)
    levels = _levels(scan, funnel)
    n = len(funnel["stages"])
    converted = levels == n if n else np.zeros(len(levels), dtype=bool)
    return engine.sources(scan, converted)


def funnel(q: InsightQuery, *, distinct: bool = False) -> dict:
    config = _funnel_config(q)
    names = [stage["name"] for stage in config["stages"]]
    body = {"order": config["order"], "window_seconds": config["window_seconds"]}
    body["unit"] = "visitor"
    if distinct:
        counted = get_store().stage_entry_counts(
            q.app.pk, q.epoch, range(len(names)), q.start_ms, q.end_ms
        )
        counts = [counted[index] for index in range(len(names))]
        body["distinct"] = True
        body["stages"] = [{"name": n, "visitors": c} for n, c in zip(names, counts, strict=True)]
        return body
    result = engine.funnel(
        _source(q, *engine.FUNNEL),
        names=names,
        order=config["order"],
        window_seconds=config["window_seconds"],
    )
    body["stages"] = result["stages"]
    return body


def funnel_dropoffs(q: InsightQuery, stage: int) -> dict:
    config = _funnel_config(q)
    scan = _source(q, *engine.DROPOFFS)
    levels = _levels(scan, config)
    return {"stage": stage, "visitors": engine.dropoffs(scan, levels, stage)}


def journeys(q: InsightQuery, *, start: str | None, steps: int, direction: str) -> dict:
    body = engine.journeys(
        _source(q, *engine.JOURNEYS), start=start, steps=steps, direction=direction
    )
    return {"start": start, "steps": steps, "direction": direction, **body}


def elements(q: InsightQuery) -> dict:
    names = [element["name"] for element in config_for_epoch(q.app, q.epoch)["elements"]]
    return {"results": engine.elements(_source(q, *engine.ELEMENTS), names)}


def _visitors_now(q: InsightQuery) -> int:
    now_ms = int(time.time() * 1000)
    store = get_store()
    rows = store.columns(
        q.app.pk, q.epoch, now_ms - LIVE_WINDOW_MS, now_ms + 60_000, ["visitor_id"]
    )
    return int(np.unique(rows.codes["visitor_id"]).size)


def live(q: InsightQuery, *, now_ms: int | None = None) -> dict:
    now_ms = now_ms or int(time.time() * 1000)
    rows = get_store().columns(q.app.pk, q.epoch, now_ms - LIVE_WINDOW_MS, now_ms + 60_000)
    names = [stage["name"] for stage in _funnel_config(q)["stages"]]
    return engine.live(rows, names)
