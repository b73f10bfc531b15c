"""The rollups the embedded store keeps with its column parts give the answers of the events
themselves (the scan path, which tests/test_insights.py checks against the brute-force
reference): whatever the load order, the parts built and merged, the events still pending, and
the range's edges (partial UTC days)."""

import random

import pytest

from eventstore.rollups import NAMES
from eventstore.sqlite import SQLiteEventStore
from eventstore.values import MS_PER_DAY
from insights import engine
from tests.test_eventstore_contract import (
    APP,
    EPOCH,
    STAGE_NAMES,
    TRAFFIC_START,
    append_in_groups,
    synthetic_traffic,
)

DAY0 = TRAFFIC_START - TRAFFIC_START % MS_PER_DAY
RANGES = {
    "whole days": (DAY0, DAY0 + 4 * MS_PER_DAY),
    "partial days": (DAY0 + 5 * 3_600_000 + 17, DAY0 + 2 * MS_PER_DAY + 19_800_000),
    "inside a day": (DAY0 + MS_PER_DAY + 3_600_000, DAY0 + MS_PER_DAY + 50_000_000),
    "one whole day": (DAY0 + MS_PER_DAY, DAY0 + 2 * MS_PER_DAY),
    "empty": (DAY0 - MS_PER_DAY, DAY0),
}


def answers(source, start_ms: int, end_ms: int) -> dict:
    """Every report of a source (a store's `Rollups` or a `Scan`), visitors by id."""
    r = engine.rollups_of(source)
    funnels = {
        order: engine.funnel(source, names=STAGE_NAMES, order=order, window_seconds=3600)
        for order in ("ordered", "strict", "any")
    }
    levels = funnels["ordered"]["levels"]
    hours = list(range(start_ms - start_ms % 3_600_000, end_ms, 3_600_000))
    half_hour_days = list(range(start_ms - start_ms % MS_PER_DAY - 19_800_000, end_ms, MS_PER_DAY))
    result = {
        "overview": engine.overview(source, hours),
        "overview in +05:30 days": engine.overview(source, half_hour_days),
        "pages": engine.pages(source),
        "technology": [engine.breakdown(source, name) for name in ("browser", "os", "device")],
        "sources": engine.sources(source, levels == len(STAGE_NAMES)),
        "dropoffs": [engine.dropoffs(source, levels, stage) for stage in (1, 2, 3)],
        "journeys": engine.journeys(source, start=None, steps=4, direction="forward"),
        "journeys from /": engine.journeys(source, start="/", steps=3, direction="forward"),
        "journeys back": engine.journeys(source, start="/checkout", steps=3, direction="backward"),
        "elements": engine.elements(source, ["Pricing CTA"]),
    }
    table = r.tables["visitor_id"]
    for order, funnel in funnels.items():
        reached = {table[code]: int(level) for code, level in enumerate(funnel["levels"]) if level}
        result[f"funnel {order}"] = {"stages": funnel["stages"], "levels": reached}
    return result


def load(store, events: list, rng: random.Random) -> None:
    """Appends of 1 to 300 events, column parts built after some of them (merged as they pile
    up), the last ones left pending."""
    start = 0
    while start < len(events):
        size = rng.randint(1, 300)
        store.append(events[start : start + size])
        start += size
        if rng.random() < 0.6 and start < len(events) - 200:
            store.flush_pending(rng.choice([50, 500, 5000]))


def flushed_store(path) -> SQLiteEventStore:
    """A store holding the synthetic traffic, every event in a column part."""
    store = SQLiteEventStore(path)
    append_in_groups(store, synthetic_traffic(APP))
    while store.flush_pending():
        pass
    return store


@pytest.mark.parametrize("order", ["time", "visitor", "shuffled"])
def test_store_rollups_answer_as_the_events_do(tmp_path, order):
    events = synthetic_traffic(APP)
    rng = random.Random(order)
    if order == "visitor":  # each visitor's events together, visitors in random order
        by_visitor: dict[str, list] = {}
        for event in events:
            by_visitor.setdefault(event.visitor_id, []).append(event)
        groups = list(by_visitor.values())
        rng.shuffle(groups)
        events = [event for group in groups for event in group]
    elif order == "shuffled":
        events = rng.sample(events, len(events))
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    load(store, events, rng)
    for start, end in RANGES.values():
        from_rollups = answers(store.rollups(APP, EPOCH, start, end, NAMES), start, end)
        from_events = answers(engine.Scan(store.columns(APP, EPOCH, start, end), {}), start, end)
        assert from_rollups == from_events
    whole = answers(store.rollups(APP, EPOCH, *RANGES["whole days"], NAMES), *RANGES["whole days"])
    assert whole["funnel ordered"]["levels"] and whole["journeys"]["paths"]  # not vacuous
    store.close()


def test_rollups_read_from_parts_not_the_events_of_whole_days(tmp_path):
    store = flushed_store(tmp_path / "events.sqlite3")
    start, end = RANGES["one whole day"]

    rollups = store.rollups(APP, EPOCH, start, end, ["sessions.session"])

    assert len(rollups.pieces) >= 1 and all(piece.n for piece in rollups.pieces)
    assert rollups.rows is None  # no piece was computed from the range's events
    assert len(rollups["sessions.session"]) > 0
    store.close()


def test_an_upgrade_from_schema_2_stores_the_rollups_of_existing_parts(tmp_path):
    path = tmp_path / "events.sqlite3"
    events = synthetic_traffic(APP)
    old = SQLiteEventStore(path)
    load(old, events, random.Random(2))
    while old.flush_pending():
        pass
    with old._transaction() as conn:  # back to schema 2: parts without rollups
        marks = ", ".join("?" * len(NAMES))
        conn.execute(f"DELETE FROM segment_columns WHERE name IN ({marks})", NAMES)
        conn.execute("PRAGMA user_version = 2")
    old.close()

    upgraded = SQLiteEventStore(path)

    start, end = RANGES["whole days"]
    from_rollups = answers(upgraded.rollups(APP, EPOCH, start, end, NAMES), start, end)
    columns = upgraded.columns(APP, EPOCH, start, end)
    assert from_rollups == answers(engine.Scan(columns, {}), start, end)
    assert len(columns) == len(events)
    upgraded.close()


@pytest.mark.parametrize("bitmap", [True, False])
def test_distinct_counts_by_bitmap_and_by_sorting(monkeypatch, bitmap):
    """Distinct members per group, whichever way they are counted (a bitmap for few groups,
    sorting otherwise), are the sets' sizes; and array medians are statistics.median."""
    import statistics

    import numpy as np

    from insights.engine import arrays

    monkeypatch.setattr(arrays, "BITMAP_CELLS", 1 << 26 if bitmap else 0)
    rng = random.Random(5)
    for size in (1, 2, 7, 500):
        groups = np.array([rng.randrange(6) for _ in range(size)], dtype=np.int64)
        members = np.array([rng.randrange(40) for _ in range(size)], dtype=np.int32)
        expected = [
            len({m for g, m in zip(groups, members, strict=True) if g == k}) for k in range(7)
        ]
        assert arrays.distinct_counts(groups, members, 7).tolist() == expected
        values = [rng.randrange(-50, 50) / 7 for _ in range(size)]
        assert arrays.median(np.array(values)) == statistics.median(values)
        assert arrays.median(members.astype(np.int64)) == statistics.median(members.tolist())


def test_columns_read_by_rows_are_those_read_whole(tmp_path):
    """`Rollups.rows_of` (the tie-breaking columns, read in place for a few rows) gives what
    indexing the whole column gives, for rows in any order, repeated, in every piece."""
    import numpy as np

    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    rng = random.Random(3)
    events = synthetic_traffic(APP)
    load(store, rng.sample(events, len(events)), rng)
    names = ["sessions.session", "sessions.first_hi", "sessions.referrer", "pageviews.session",
             "pageviews.ts", "hits.visitor", "hits.lo"]  # fmt: skip
    by_rows = store.rollups(APP, EPOCH, *RANGES["whole days"], names)
    whole = store.rollups(APP, EPOCH, *RANGES["whole days"], names)
    assert len(by_rows.pieces) > 2  # stored parts, and the edges and pending summarized
    for name in names[1:]:
        size = len(whole[name])
        rows = np.array([rng.randrange(size) for _ in range(200)] + [0, size - 1, 0])
        assert by_rows.column(name)[rows].tolist() == whole[name][rows].tolist()
    store.close()
