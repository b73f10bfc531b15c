"""Column parts in Cassandra: built from sealed slots by any process, resealed after late events,
identical when two processes race, invisible until complete, and reads exact at every step.

Each test drives the store's clock (`clock=`) so that "now" is where the test needs it; the
node, its tables and the bytes read back are real.
"""

from __future__ import annotations

import threading

import pytest

from eventstore.cassandra.buckets import DAY, SLOT, SLOT_MS
from eventstore.columns import ARRAYS, Columns
from tests import test_eventstore_contract as contract
from tests.test_eventstore_contract import APP, EPOCH, MS_PER_DAY, T0, column_rows, make_event

cassandra_node = contract.cassandra_node
_shared_cassandra_store = contract._shared_cassandra_store
cassandra_store = contract.cassandra_store

pytestmark = pytest.mark.cassandra

HOUR, MINUTE = 3_600_000, 60_000
DAY0 = T0 - T0 % MS_PER_DAY  # 2025-10-09 00:00 UTC
DAY_NUMBER = DAY0 // MS_PER_DAY


class Clock:
    """The time a store sees, in ms, moved by the test."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def stores(cassandra_store, cassandra_node):
    """Stores of the test's (emptied) keyspace on a clock of the test's, as separate processes
    would hold them (each its own driver session); closed afterwards."""
    opened = []

    def open_store(clock: Clock):
        store = cassandra_node.store(clock=clock)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


def traffic(start: int, end: int, count: int, **fields) -> list:
    """`count` pageviews spread over [start, end), a few visitors and paths, some in stages."""
    step = max(1, (end - start) // count)
    return [
        make_event(
            ts=start + i * step + i % 3,
            visitor_id=f"{i % 7:016x}",
            session_id=f"s{i % 11}",
            path=f"/p{i % 5}",
            stages=(0,) if i % 4 == 0 else (),
            **fields,
        )
        for i in range(count)
    ]


def assert_reads_exactly(store, events, start: int, end: int) -> None:
    """What the store reads by columns is exactly the events of the range, in order, whole or
    with some columns only."""
    expected = Columns.from_rows(e for e in events if start <= e.ts < end)
    assert column_rows(store.columns(APP, EPOCH, start, end)) == column_rows(expected)
    some = store.columns(APP, EPOCH, start, end, names=["ts", "path", "visitor_id"])
    paths = [some.tables["path"][code] for code in some.codes["path"]]
    assert paths == [expected.tables["path"][code] for code in expected.codes["path"]]
    visitors = {some.tables["visitor_id"][code] for code in some.codes["visitor_id"]}
    assert visitors == {e.visitor_id for e in events if start <= e.ts < end}


def stored_versions(store, level: int, name: str = "ts") -> set[tuple[int, int]]:
    """(bucket, version) of every part whose bytes are stored for the day, at a level."""
    rows = store.session.execute(
        f"SELECT bucket, version FROM {store.keyspace}.part_columns WHERE app_id = %s "
        "AND epoch = %s AND day = %s AND name = %s AND level = %s",
        (APP, EPOCH, DAY_NUMBER, name, level),
    )
    return {(bucket, version) for bucket, version in rows}


def layout(store):
    return store.reader.layout(APP, EPOCH, DAY_NUMBER, DAY_NUMBER)


def test_sealed_slots_of_today_get_parts_the_open_slot_is_read_raw(stores):
    clock = Clock(DAY0 + 9 * HOUR)
    store = stores(clock)
    done = traffic(DAY0 + 9 * HOUR, DAY0 + 9 * HOUR + 30 * MINUTE, 60)  # sealed at 09:35
    still_open = traffic(DAY0 + 9 * HOUR + 50 * MINUTE, DAY0 + 10 * HOUR, 20)  # sealed at 10:05
    events = done + still_open
    for event in events:  # each as it happens (none late)
        clock.ms = event.ts + 1
        store.append([event])
    clock.ms = DAY0 + 10 * HOUR

    assert store.flush_pending() == len(done)

    built = layout(store)
    assert set(built.slots) == {DAY0 + 9 * HOUR, DAY0 + 9 * HOUR + SLOT_MS}
    assert [built.slots[slot].n for slot in sorted(built.slots)] == [30, 30]
    assert built.days == {} and built.marks == {}
    assert_reads_exactly(store, events, DAY0, DAY0 + MS_PER_DAY)
    assert_reads_exactly(store, events, DAY0 + 9 * HOUR + 7 * MINUTE, DAY0 + 9 * HOUR + 55 * MINUTE)

    clock.ms = DAY0 + 10 * HOUR + 6 * MINUTE  # the last slot is sealed now
    assert store.flush_pending() == len(still_open)
    assert len(layout(store).slots) == 3
    assert_reads_exactly(store, events, DAY0, DAY0 + MS_PER_DAY)

    clock.ms = DAY0 + MS_PER_DAY + 6 * MINUTE  # the day is sealed: one part replaces the slots'
    store.flush_pending()

    built = layout(store)
    assert built.slots == {} and built.days[DAY_NUMBER].n == len(events)
    assert stored_versions(store, SLOT) == set()
    assert_reads_exactly(store, events, DAY0, DAY0 + MS_PER_DAY)


def test_a_late_event_is_read_at_once_and_resealed_into_the_day_part(stores):
    clock = Clock(DAY0 + 30 * HOUR)  # the next day: the whole day is sealed
    store = stores(clock)
    events = traffic(DAY0 + 8 * HOUR, DAY0 + 20 * HOUR, 300)
    store.append(events)
    clock.ms += 1
    store.flush_pending()
    first = layout(store).days[DAY_NUMBER]
    assert first.n == len(events)

    clock.ms += MINUTE
    late = make_event(ts=DAY0 + 12 * HOUR + 5, visitor_id="f" * 16, path="/late", stages=(0,))
    store.append([late])
    marked = layout(store)
    slot = DAY0 + 12 * HOUR

    assert marked.marks[slot] > marked.days[DAY_NUMBER].covers(slot)  # the part lacks it
    assert_reads_exactly(store, [*events, late], DAY0, DAY0 + MS_PER_DAY)  # read raw meanwhile
    assert store.count_events(APP, EPOCH) == len(events) + 1

    clock.ms += MINUTE
    store.flush_pending()
    resealed = layout(store).days[DAY_NUMBER]

    assert resealed.n == len(events) + 1 and resealed.version != first.version
    assert resealed.covers(slot) >= marked.marks[slot]
    assert slot not in layout(store).marks  # covered: deleted
    assert stored_versions(store, DAY) == {(DAY0, resealed.version)}  # the old bytes are gone
    assert_reads_exactly(store, [*events, late], DAY0, DAY0 + MS_PER_DAY)
    assert store.stage_visitors(APP, EPOCH, 0)["f" * 16] == late.ts


def test_two_processes_building_the_same_day_write_identical_parts(stores):
    clock = Clock(DAY0 + 30 * HOUR)
    first, second = stores(clock), stores(clock)
    events = traffic(DAY0, DAY0 + MS_PER_DAY, 2000)
    for start in range(0, len(events), 500):
        (first if start % 1000 else second).append(events[start : start + 500])
    clock.ms += 1
    barrier = threading.Barrier(2)
    built = []

    def build(store) -> None:
        barrier.wait()
        built.append(store.flush_pending())

    threads = [threading.Thread(target=build, args=(store,)) for store in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    part = layout(first).days[DAY_NUMBER]
    assert built == [len(events), len(events)]  # both built it
    for name in ARRAYS:  # one version, written twice with the same bytes
        assert stored_versions(first, DAY, name) == {(DAY0, part.version)}
    assert_reads_exactly(first, events, DAY0, DAY0 + MS_PER_DAY)
    assert_reads_exactly(second, events, DAY0, DAY0 + MS_PER_DAY)


class Crash(Exception):
    """The builder's process dies here."""


def test_a_build_that_dies_before_describing_its_part_shows_nothing_and_is_done_after_restart(
    stores,
):
    clock = Clock(DAY0 + 30 * HOUR)
    dying = stores(clock)
    events = traffic(DAY0 + HOUR, DAY0 + 23 * HOUR, 500)
    dying.append(events)
    clock.ms += 1
    run = dying._run

    def run_until_the_description(calls, **options):
        calls = list(calls)
        if any(statement is dying.statements.insert_part for statement, _ in calls):
            raise Crash  # every chunk is written, the description is not
        return run(calls, **options)

    dying._run = run_until_the_description
    with pytest.raises(Crash):
        dying.flush_pending()

    assert stored_versions(dying, DAY)  # bytes without a description...
    assert layout(dying).days == {}  # ...are not a part
    assert_reads_exactly(dying, events, DAY0, DAY0 + MS_PER_DAY)  # read raw: still exact

    restarted = stores(clock)
    assert restarted.flush_pending() == len(events)  # the queue still held the work
    assert layout(restarted).days[DAY_NUMBER].n == len(events)
    assert_reads_exactly(restarted, events, DAY0, DAY0 + MS_PER_DAY)
    assert restarted.flush_pending() == 0


def test_a_read_racing_a_rebuild_stays_exact(stores):
    """While one process reseals a day again and again (late events keep coming), another
    reads it: every read is exact (a part replaced under a read is read again)."""
    clock = Clock(DAY0 + 30 * HOUR)
    writer, reader = stores(clock), stores(clock)
    events = traffic(DAY0, DAY0 + MS_PER_DAY, 1500)
    writer.append(events)
    clock.ms += 1
    writer.flush_pending()
    stop = threading.Event()
    late: list = []

    def reseal() -> None:
        for n in range(15):
            clock.ms += 1000
            event = make_event(ts=DAY0 + n * HOUR + 17, visitor_id=f"{n:016x}", path="/late")
            writer.append([event])
            late.append(event)
            clock.ms += 1
            writer.flush_pending()
        stop.set()

    thread = threading.Thread(target=reseal)
    thread.start()
    reads = 0
    while not stop.is_set() or not reads:
        seen = late[:]  # acked before the read starts: must be in it
        columns = reader.columns(APP, EPOCH, DAY0, DAY0 + MS_PER_DAY)
        rows = set(column_rows(columns))
        assert len(rows) == len(columns)  # nothing twice
        assert set(column_rows(Columns.from_rows(events + seen))) <= rows
        reads += 1
    thread.join()
    assert_reads_exactly(reader, events + late, DAY0, DAY0 + MS_PER_DAY)


def test_a_late_event_arriving_during_a_build_stays_queued_and_is_built_next(stores):
    clock = Clock(DAY0 + 30 * HOUR)
    builder, ingest = stores(clock), stores(clock)
    events = traffic(DAY0, DAY0 + MS_PER_DAY, 400)
    ingest.append(events)
    late = make_event(ts=DAY0 + 3 * HOUR + 1, visitor_id="e" * 16, path="/during")
    read_raw = builder.reader.raw

    def raw_then_a_late_event(*args):
        rows = read_raw(*args)  # the builder has read the raw rows...
        if not late_sent:
            late_sent.append(ingest.append([late]))  # ...and the late event is stored now
        return rows

    late_sent: list = []
    builder.reader.raw = raw_then_a_late_event
    clock.ms += 1000
    builder.flush_pending()
    built = layout(builder)
    slot = late.ts - late.ts % SLOT_MS

    assert late_sent and built.days[DAY_NUMBER].n == len(events)  # built without it
    assert built.marks[slot] > built.days[DAY_NUMBER].covers(slot)  # so the slot is not used
    assert_reads_exactly(builder, [*events, late], DAY0, DAY0 + MS_PER_DAY)
    clock.ms += 1000
    assert builder.flush_pending() == len(events) + 1  # still queued: built now
    assert layout(builder).days[DAY_NUMBER].covers(slot) >= built.marks[slot]
    assert_reads_exactly(builder, [*events, late], DAY0, DAY0 + MS_PER_DAY)


def test_a_process_reads_the_bytes_of_a_part_once_then_from_memory(stores):
    clock = Clock(DAY0 + 30 * HOUR)
    store, uncached = stores(clock), stores(clock)
    uncached.part_cache.max_bytes = 0
    events = traffic(DAY0, DAY0 + MS_PER_DAY, 300)
    store.append(events)
    clock.ms += 1
    store.flush_pending()
    asked: list = []

    def counting(target):
        run = target._run

        def counted(calls, **options):
            calls = list(calls)
            asked.extend(s for s, _ in calls if s is target.statements.select_part_chunks)
            return run(calls, **options)

        target._run = counted

    counting(store)
    counting(uncached)
    for reader, queries in ((store, 0), (uncached, len(ARRAYS) + 3)):  # all, then 3 columns
        assert_reads_exactly(reader, events, DAY0, DAY0 + MS_PER_DAY)
        asked.clear()
        assert_reads_exactly(reader, events, DAY0, DAY0 + MS_PER_DAY)  # again: exact...
        assert len(asked) == queries  # ...with no part bytes read when they are in memory


def test_an_import_of_past_days_queues_each_day_once_and_leaves_no_work(stores):
    """Past days' events (all late) queue their days, not each of their slots: the queue and
    the parts of a day are emptied by a few tombstones, not one per slot."""
    clock = Clock(DAY0 + 3 * MS_PER_DAY)
    store = stores(clock)
    events = traffic(DAY0 - MS_PER_DAY, DAY0 + MS_PER_DAY, 400)  # two whole days
    store.append(events)

    def queued():
        rows = store.session.execute(
            f"SELECT app_id, epoch, bucket, level FROM {store.keyspace}.build_queue"
        )
        return sorted((bucket, level) for _, _, bucket, level in rows)

    assert queued() == [(DAY0 - MS_PER_DAY, DAY), (DAY0, DAY)]
    clock.ms += 1
    assert store.flush_pending() == len(events)
    assert queued() == []
    assert layout(store).marks == {}  # covered, retired
    assert_reads_exactly(store, events, DAY0 - MS_PER_DAY, DAY0 + MS_PER_DAY)
