"""Generating and storing one day of traffic: what each generating process does."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import time
from dataclasses import dataclass

from eventstore import get_store

from . import traffic
from .site import Site

IMPORT_GROUP = 50_000  # events per import transaction


@dataclass(frozen=True)
class DayWritten:
    """What one generated day stored."""

    day: dt.date
    new: int
    duplicates: int
    visitors: int
    sessions: int


def write_day(site: Site, day: dt.date, people: int, seed: int) -> DayWritten:
    """Generate one day and store it (idempotent: its events are the same every time)."""
    with _collector_paused():
        now_ms = int(time.time() * 1000)  # today's traffic stops at the present
        generated = traffic.generate_day(site, day, people, seed=seed, until_ms=now_ms)
        store, new, duplicates = get_store(), 0, 0
        for start in range(0, len(generated.events), IMPORT_GROUP):
            result = store.import_events(generated.events[start : start + IMPORT_GROUP])
            new += len(result.new_keys)
            duplicates += len(result.duplicate_keys)
    return DayWritten(day, new, duplicates, generated.visitors, generated.sessions)


@contextlib.contextmanager
def _collector_paused():
    """No cyclic garbage collection while a day is built: it makes only acyclic objects (a
    day's events, rows and columns), and collecting while they pile up tripled the time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
