"""The Cassandra store's bulk import (`import_columns`, eventstore/cassandra/bulk.py): what it
stores reads exactly like the same events appended one batch at a time (on the embedded store,
the reference), at every step: right after the import (slots read raw, their parts pending),
once the parts built from the batch's columns are written (the builder's skew later), and once
the builder has merged them into day parts. A slot that receives another event between the
import and the writing of its part gets no part from the import (a builder builds it from the
raw rows).

The store's clock is the test's (`Clock`), with a real skew allowance; the node is real.
"""

from __future__ import annotations

import random

import pytest

from eventstore.cassandra import bulk
from eventstore.cassandra.buckets import SLOT_MS
from eventstore.columns import EventBatch
from tests import test_eventstore_contract as contract
from tests.test_cassandra_parts import Clock
from tests.test_eventstore_contract import (
    APP,
    EPOCH,
    MS_PER_DAY,
    TRAFFIC_START,
    append_in_groups,
    engine_answers,
    make_event,
    synthetic_traffic,
)
from tests.test_import_columns import WHOLE, expected, held

cassandra_node = contract.cassandra_node
_shared_cassandra_store = contract._shared_cassandra_store
cassandra_store = contract.cassandra_store
sqlite_store = contract.sqlite_store

pytestmark = pytest.mark.cassandra

SKEW_MS = 5_000
DAYS = (TRAFFIC_START // MS_PER_DAY - 1, TRAFFIC_START // MS_PER_DAY + 4)


@pytest.fixture
def imported(cassandra_store, cassandra_node):
    """A store on the test's clock (ten days after the traffic), skew allowed; closed after."""
    clock = Clock(TRAFFIC_START + 10 * MS_PER_DAY)
    store = cassandra_node.store(clock=clock, skew_ms=SKEW_MS)
    yield store, clock
    store.close()


def import_in_batches(store, events: list, sizes: list[int]) -> None:
    """The events in time order, cut into batches of these sizes (cuts fall inside slots), each
    batch shuffled."""
    start = 0
    for size in sizes:
        batch = events[start : start + size]
        store.import_columns(EventBatch.of_events(random.Random(size).sample(batch, len(batch))))
        start += size
    assert start >= len(events)


def parts_of(store) -> tuple[int, int]:
    """How many slot parts and day parts the store describes for the traffic's days."""
    layout = store.reader.layout(APP, EPOCH, *DAYS)
    return len(layout.slots), len(layout.days)


def reads_like(store, reference, events) -> None:
    """The store holds and answers what the reference (the same events appended) does."""
    visitors = sorted({event.visitor_id for event in events})
    assert held(store, visitors) == expected(events)
    for start, end in (WHOLE, (TRAFFIC_START + 40_000_000, TRAFFIC_START + 90_000_000)):
        for filters in ({}, {"device": "mobile"}):
            assert engine_answers(store, start, end, filters) == engine_answers(
                reference, start, end, filters
            )
        stages = range(4)
        assert store.stage_entry_counts(APP, EPOCH, stages, start, end) == (
            reference.stage_entry_counts(APP, EPOCH, stages, start, end)
        )


def test_an_import_reads_like_appends_before_and_after_its_parts_are_written(
    imported, sqlite_store
):
    store, clock = imported
    events = sorted(synthetic_traffic(APP), key=lambda e: (e.ts, e.event_id))
    append_in_groups(sqlite_store, events)  # the reference: the per-event path
    import_in_batches(store, events, [333, 500, len(events)])

    assert parts_of(store) == (0, 0)  # every slot read raw: the parts wait for the skew
    reads_like(store, sqlite_store, events)

    clock.ms += SKEW_MS + 1
    slots = {event.ts - event.ts % SLOT_MS for event in events}
    cut = {e.ts - e.ts % SLOT_MS for e in (events[333], events[833])}  # slots of two batches
    assert bulk.write_ready(store) == sum(1 for e in events if e.ts - e.ts % SLOT_MS not in cut)
    assert parts_of(store) == (len(slots - cut), 0)
    reads_like(store, sqlite_store, events)

    while store.flush_pending():  # the builder: day parts from the slot parts (and raw rows)
        pass
    assert parts_of(store) == (0, len({event.ts // MS_PER_DAY for event in events}))
    reads_like(store, sqlite_store, events)


def test_a_slot_that_gets_another_event_before_its_part_is_written_gets_none(
    imported, sqlite_store
):
    store, clock = imported
    events = sorted(synthetic_traffic(APP), key=lambda e: (e.ts, e.event_id))
    import_in_batches(store, events, [len(events)])
    intruder = make_event(ts=events[10].ts + 1, visitor_id=events[10].visitor_id, stages=(0,))
    store.append([intruder])  # late: marked after the import's own markers
    everything = [*events, intruder]
    append_in_groups(sqlite_store, everything)

    clock.ms += SKEW_MS + 1
    slot = intruder.ts - intruder.ts % SLOT_MS
    in_slot = sum(1 for e in events if e.ts - e.ts % SLOT_MS == slot)
    assert bulk.write_ready(store) == len(events) - in_slot
    assert slot not in store.reader.layout(APP, EPOCH, *DAYS).slots
    reads_like(store, sqlite_store, everything)

    clock.ms += SKEW_MS + 1
    while store.flush_pending():
        pass
    reads_like(store, sqlite_store, everything)
