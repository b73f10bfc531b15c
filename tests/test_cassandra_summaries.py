"""Rollups on Cassandra (eventstore/cassandra/summaries.py) give the answers of the events
themselves (the scan path), and the distinct funnel's stage entry counts those of the stage
entries, whatever is built: every slot raw, day parts, a day part with a late event after it
(that day summarized from its columns), and after the reseal; for every range of
tests/test_insights_rollups.py. Whole days come from the day parts' rollups (kept per process)."""

from __future__ import annotations

import pytest

from eventstore.rollups import NAMES
from insights import engine
from tests import test_eventstore_contract as contract
from tests.test_cassandra_parts import Clock
from tests.test_eventstore_contract import (
    APP,
    EPOCH,
    MS_PER_DAY,
    TRAFFIC_START,
    append_in_groups,
    first_entries_of,
    make_event,
    synthetic_traffic,
)
from tests.test_insights_rollups import DAY0, RANGES, answers

cassandra_node = contract.cassandra_node
_shared_cassandra_store = contract._shared_cassandra_store
cassandra_store = contract.cassandra_store

pytestmark = pytest.mark.cassandra


def answers_agree(store, events) -> None:
    in_order = sorted(events, key=lambda e: (e.ts, e.event_id))
    for start, end in RANGES.values():
        from_rollups = answers(store.rollups(APP, EPOCH, start, end, NAMES), start, end)
        from_events = answers(engine.Scan(store.columns(APP, EPOCH, start, end), {}), start, end)
        assert from_rollups == from_events
        expected = {}
        for stage in range(4):
            firsts = first_entries_of(in_order, stage).values()
            expected[stage] = sum(1 for ts in firsts if start <= ts < end)
        assert store.stage_entry_counts(APP, EPOCH, range(4), start, end) == expected


def test_cassandra_rollups_answer_as_the_events_do(cassandra_store, cassandra_node):
    clock = Clock(TRAFFIC_START + 10 * MS_PER_DAY)
    store = cassandra_node.store(clock=clock)
    events = synthetic_traffic(APP)
    append_in_groups(store, events)
    answers_agree(store, events)  # every slot read raw

    clock.ms += 1  # the queue items are older than the builder's coverage
    while store.flush_pending():
        pass
    day = DAY0 // MS_PER_DAY + 1
    layout = store.reader.layout(APP, EPOCH, day, day)
    assert day in layout.days  # day parts built
    whole = RANGES["one whole day"]
    rollups = store.rollups(APP, EPOCH, *whole, NAMES)
    assert rollups.rows is None and len(rollups.pieces) == 1  # the day part's rollup alone
    assert store.summaries.cache.get((APP, EPOCH, *_key(layout.days[day]))) is not None
    answers_agree(store, events)  # again, from the kept rollups

    late = make_event(ts=DAY0 + MS_PER_DAY + 7_200_000, stages=(0, 1), path="/")
    store.append([late])  # after its day part: that day is summarized from its columns
    answers_agree(store, [*events, late])
    clock.ms += 1
    while store.flush_pending():
        pass
    answers_agree(store, [*events, late])
    store.close()


def _key(info) -> tuple:
    return (info.level, info.bucket, info.version)


def test_a_visitor_who_entered_before_the_range_is_not_counted_in_it(
    cassandra_store, cassandra_node
):
    clock = Clock(TRAFFIC_START + 10 * MS_PER_DAY)
    store = cassandra_node.store(clock=clock)
    hour = 3_600_000
    events = [
        make_event(visitor_id="back", ts=DAY0 + 10 * hour, stages=(0,)),
        make_event(visitor_id="back", ts=DAY0 + MS_PER_DAY + 10 * hour, stages=(0, 1)),
        make_event(visitor_id="new", ts=DAY0 + MS_PER_DAY + 11 * hour, stages=(0,)),
    ]
    append_in_groups(store, events)
    clock.ms += 1
    for built in (False, True):  # raw, then day parts
        second_day = (DAY0 + MS_PER_DAY, DAY0 + 2 * MS_PER_DAY)
        assert store.stage_entry_counts(APP, EPOCH, [0, 1], *second_day) == {0: 1, 1: 1}
        assert store.stage_entry_counts(APP, EPOCH, [0, 1], DAY0, DAY0 + MS_PER_DAY) == {0: 1, 1: 0}
        while not built and store.flush_pending():
            pass
    store.close()
