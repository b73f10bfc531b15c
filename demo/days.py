"""Generating and storing one day of traffic: what each generating process does."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from dataclasses import dataclass
from operator import itemgetter

from eventstore import EventBatch, get_store

from . import traffic
from .site import Site

IMPORT_GROUP = 100_000  # events per import transaction: a few days (see `write_days`)


@dataclass(frozen=True)
class DayWritten:
    """What one generated day, or a few stored together, stored (`day`: the first)."""

    day: dt.date
    new: int
    duplicates: int
    visitors: int
    sessions: int


def write_days(site: Site, plan: list[tuple[dt.date, int]], seed: int) -> DayWritten:
    """Generate these days (date, people) and store them by columns (`import_columns`: no
    object per event), up to IMPORT_GROUP events per import transaction: each transaction
    rewrites the pages of the per-visitor tables (codes, last seen, stage entries: keyed by
    hashes) that its visitors land on, so fewer, larger transactions rewrite fewer.
    Idempotent: the days' events are the same every time."""
    with _collector_paused():
        now_ms = int(time.time() * 1000)  # today's traffic stops at the present
        days = [
            traffic.generate_day_rows(site, day, people, seed=seed, until_ms=now_ms)
            for day, people in plan
        ]
        rows = [row for day in days for row in day.rows]
        rows.sort(key=itemgetter(traffic.TS))  # local days overlap in UTC: in time order
        store, new, duplicates = get_store(), 0, 0
        for start in range(0, len(rows), IMPORT_GROUP):
            counts = store.import_columns(EventBatch.of_rows(rows[start : start + IMPORT_GROUP]))
            new += counts.new
            duplicates += counts.duplicates
    visitors, sessions = sum(day.visitors for day in days), sum(day.sessions for day in days)
    return DayWritten(plan[0][0], new, duplicates, visitors, sessions)


@contextlib.contextmanager
def _collector_paused():
    """No cyclic garbage collection while days are built: they make only acyclic objects
    (events, rows and columns), and collecting while they pile up tripled the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
