"""A day part's rollup stored beside it (eventstore/cassandra/parts.py `rollup_rows`): a fresh
store object (a new process) reads it instead of computing it and gets exactly what computing
gives; a rollup not all stored is computed instead; one missing (a part built before stored
rollups) is computed by the first reader and written back for the next; deleting the partition
or replacing the day part deletes it."""

from __future__ import annotations

import numpy as np
import pytest

from eventstore.cassandra.parts import ROLLUP, rollup_arrays
from eventstore.cassandra.sealing import column_key
from eventstore.rollups import NAMES
from tests import test_eventstore_contract as contract
from tests.test_cassandra_parts import Clock
from tests.test_cassandra_summaries import answers_agree
from tests.test_eventstore_contract import (
    APP,
    EPOCH,
    MS_PER_DAY,
    TRAFFIC_START,
    append_in_groups,
    make_event,
    synthetic_traffic,
)
from tests.test_insights_rollups import DAY0

pytestmark = pytest.mark.cassandra
_shared_cassandra_store = contract._shared_cassandra_store  # the node's fixtures, used here
cassandra_node, cassandra_store = contract.cassandra_node, contract.cassandra_store


def built(node, *, rollups: bool = True):
    """A store whose day parts are built from the synthetic traffic (their rollups written
    with them, or not, as before stored rollups), its clock and the events."""
    clock = Clock(TRAFFIC_START + 10 * MS_PER_DAY)
    store = node.store(clock=clock)
    store.builder.rollups = rollups
    events = synthetic_traffic(APP)
    append_in_groups(store, events)
    clock.ms += 1  # the queue items are older than the builder's coverage
    while store.flush_pending():
        pass
    return store, clock, events


def day_parts(store) -> list:
    layout = store.reader.layout(APP, EPOCH, DAY0 // MS_PER_DAY - 1, DAY0 // MS_PER_DAY + 40)
    assert layout.days
    return [layout.days[day] for day in sorted(layout.days)]


def stored_rows(store, info) -> list:
    key = column_key(APP, EPOCH, info, ROLLUP)
    return list(store._execute(store.statements.select_part_chunks, *key))


def key(info) -> tuple:
    return (APP, EPOCH, info.level, info.bucket, info.version)


def assert_same_rollup(stored, computed) -> None:
    assert (stored.n, stored.first_ts) == (computed.n, computed.first_ts)
    assert stored.tables == computed.tables
    for name in NAMES:
        assert stored.data[name].dtype == computed.data[name].dtype, name
        assert np.array_equal(stored.data[name], computed.data[name]), name


def test_a_fresh_store_reads_the_stored_rollups_and_gets_what_computing_gives(
    cassandra_store, cassandra_node
):
    builder, _, events = built(cassandra_node)
    fresh = cassandra_node.store()
    infos = day_parts(fresh)
    stored = fresh.summaries.stored_rollups(APP, EPOCH, infos)
    assert set(stored) == {key(info) for info in infos}  # written by the day's builder
    for info in infos:
        assert_same_rollup(stored[key(info)], fresh.summaries.computed_rollup(APP, EPOCH, info))
    answers_agree(cassandra_node.store(), events)  # another fresh store, from the stored rollups
    builder.close()
    fresh.close()


@pytest.mark.parametrize("missing", [0, -1], ids=["a column chunk", "the sizes"])
def test_a_rollup_not_all_stored_is_not_used(cassandra_store, cassandra_node, missing):
    builder, _, events = built(cassandra_node)
    info = day_parts(builder)[1]
    table = f"{cassandra_node.keyspace}.part_columns"
    where = "app_id = %s AND epoch = %s AND day = %s AND name = %s AND level = %s"
    builder.session.execute(
        f"DELETE FROM {table} WHERE {where} AND bucket = %s AND version = %s AND chunk = %s",
        (*column_key(APP, EPOCH, info, ROLLUP), missing),
    )
    assert rollup_arrays(stored_rows(builder, info)) is None
    fresh = cassandra_node.store()
    assert key(info) not in fresh.summaries.stored_rollups(APP, EPOCH, [info])
    answers_agree(fresh, events)  # that day computed from its columns
    builder.close()
    fresh.close()


def test_a_rollup_missing_is_computed_once_and_read_back_by_the_next_process(
    cassandra_store, cassandra_node
):
    builder, _, events = built(cassandra_node, rollups=False)  # as before stored rollups
    infos = day_parts(builder)
    assert all(stored_rows(builder, info) == [] for info in infos)
    first = cassandra_node.store()
    answers_agree(first, events)  # computes the days' rollups, and writes them
    for info in infos:
        rows = stored_rows(first, info)
        assert rows[0][0] == -1 and rollup_arrays(rows) is not None
    second = cassandra_node.store()
    stored = second.summaries.stored_rollups(APP, EPOCH, infos)
    assert set(stored) == {key(info) for info in infos}
    for info in infos:
        assert_same_rollup(stored[key(info)], first.summaries.cache.get(key(info)))
    answers_agree(second, events)
    for store in (builder, first, second):
        store.close()


def test_replacing_a_day_part_or_deleting_the_partition_deletes_its_rollup(
    cassandra_store, cassandra_node
):
    store, clock, _ = built(cassandra_node)
    old = day_parts(store)[1]
    assert stored_rows(store, old)
    store.append([make_event(ts=old.bucket + 7_200_000, stages=(0,), path="/")])  # late
    clock.ms += 1
    while store.flush_pending():
        pass
    new = next(info for info in day_parts(store) if info.bucket == old.bucket)
    assert new.version != old.version
    assert stored_rows(store, old) == []  # the replaced version's rollup went with its columns
    assert rollup_arrays(stored_rows(store, new)) is not None
    infos = day_parts(store)
    store.delete_partition(APP, EPOCH)
    assert all(stored_rows(store, info) == [] for info in infos)
    store.close()
