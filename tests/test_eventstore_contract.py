"""The event store contract: one suite, run against every backend.

A backend joins by adding its name to the `store` fixture's params and a `<name>_store` fixture
that yields a fresh, empty store. Cassandra runs on the node of the test run
(DATALAB_TEST_CASSANDRA_HOSTS, DATALAB_TEST_CASSANDRA_PORT), in a keyspace of its own; without a
reachable node its tests are skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import time
import uuid
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from eventstore import MS_PER_DAY, StoredEvent, get_store, reset_store
from eventstore.columns import STRINGS, Columns
from eventstore.sqlite import PAGE_SIZE, SCHEMA_VERSION, SQLiteEventStore

APP, EPOCH = 7, 1
T0 = 1_760_000_000_000  # 2025-10-09T08:53:20Z
_visitors = itertools.count(1)


def make_event(**overrides) -> StoredEvent:
    """A pageview of app APP, epoch EPOCH, at T0, by a visitor of its own; fields overridable."""
    visitor = overrides.pop("visitor_id", None) or f"{next(_visitors):016x}"
    fields = {
        "app_id": APP,
        "epoch": EPOCH,
        "event_id": str(uuid.uuid4()),
        "ts": T0,
        "type": "pageview",
        "visitor_id": visitor,
        "session_id": f"s-{visitor}",
        "path": "/pricing",
    }
    return StoredEvent(**(fields | overrides))


@pytest.fixture(params=["sqlite", pytest.param("cassandra", marks=pytest.mark.cassandra)])
def store(request):
    """Each backend in turn, fresh and empty (built by the `<name>_store` fixture)."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def sqlite_store(tmp_path):
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    yield store
    store.close()


@dataclass(frozen=True)
class CassandraNode:
    hosts: list[str]
    port: int
    keyspace: str

    def store(self, **options):
        """A store of this node and keyspace. One process, one clock: no skew to allow for,
        so a `flush_pending` builds the column parts of what was just appended."""
        from eventstore.cassandra import CassandraEventStore

        options.setdefault("skew_ms", 0)
        return CassandraEventStore(
            hosts=self.hosts, port=self.port, keyspace=self.keyspace, **options
        )

    def settings(self) -> dict:
        """A `settings.CASSANDRA` for this node and keyspace."""
        return {
            "hosts": self.hosts,
            "port": self.port,
            "keyspace": self.keyspace,
            "local_dc": "datacenter1",
            "replication": "SimpleStrategy:1",
            "consistency": "LOCAL_QUORUM",
        }


def cassandra_unavailable(reason: str):
    """Skip a test that needs Cassandra; under CI=true, fail it: CI must never skip one."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"Cassandra is required under CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cassandra_node():
    """The test run's Cassandra node with a keyspace of this session (dropped at the end)."""
    from eventstore import StoreUnavailable
    from eventstore.cassandra import create_schema, parse_consistency, parse_replication
    from eventstore.cassandra.connection import DRIVER_ERRORS, connect

    hosts = [h.strip() for h in os.environ.get("DATALAB_TEST_CASSANDRA_HOSTS", "").split(",")]
    hosts = [h for h in hosts if h]
    if not hosts:
        cassandra_unavailable("DATALAB_TEST_CASSANDRA_HOSTS is not set")
    node = CassandraNode(
        hosts=hosts,
        port=int(os.environ.get("DATALAB_TEST_CASSANDRA_PORT") or 9042),
        keyspace=f"datalab_test_{os.getpid()}",
    )
    cluster = connect(
        hosts=hosts,
        port=node.port,
        local_dc="datacenter1",
        consistency=parse_consistency("LOCAL_QUORUM"),
    )
    try:
        session = cluster.connect()
        create_schema(session, node.keyspace, parse_replication("SimpleStrategy:1"))
    except (*DRIVER_ERRORS, StoreUnavailable) as exc:
        cluster.shutdown()
        cassandra_unavailable(f"no Cassandra at {hosts} port {node.port}: {exc}")
    yield node
    session.execute(f"DROP KEYSPACE IF EXISTS {node.keyspace}", timeout=60)
    cluster.shutdown()


@pytest.fixture(scope="session")
def _shared_cassandra_store(cassandra_node):
    store = cassandra_node.store()
    yield store
    store.close()


@pytest.fixture
def cassandra_store(_shared_cassandra_store, cassandra_node):
    """The session's Cassandra store, every table of its keyspace emptied first."""
    from eventstore.cassandra.connection import DRIVER_ERRORS
    from eventstore.cassandra.schema import TABLES

    session = _shared_cassandra_store.session
    deadline = time.monotonic() + 60  # after a test restarted the node, the driver reconnects
    while True:
        futures = [
            session.execute_async(f"TRUNCATE {cassandra_node.keyspace}.{table}", timeout=60)
            for table in TABLES
        ]
        try:
            for future in futures:
                future.result()
            return _shared_cassandra_store
        except DRIVER_ERRORS:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def first_entries_of(in_order, stage: int) -> dict[str, int]:
    """visitor -> ts of their first event (of events in time order) that reached `stage`."""
    entries: dict[str, int] = {}
    for event in in_order:
        if stage in event.stages:
            entries.setdefault(event.visitor_id, event.ts)
    return entries


def ids(events) -> set[str]:
    return {event.event_id for event in events}


# -- append and read back ----------------------------------------------------------------------


def test_every_field_round_trips(store):
    full = make_event(
        ts=T0 + 5,
        type="event",
        query="plan=pro&x=1",
        title="Tarifs \u00e9t\u00e9 \u2014 Acme \U0001f600",
        referrer="news.ycombinator.com",
        selector="button[data-plan=pro]",
        name="signup",
        action="click",
        duration_ms=1234,
        props={"plan": "pro", "seats": 3, "price": 9.5, "trial": True},
        browser="Firefox",
        os="Linux",
        device="desktop",
        screen=1920,
        lang="fr-FR",
        campaign="spring",
        utm={"source": "hn", "medium": "social"},
        stages=(0, 2),
    )
    bare = make_event(ts=T0 + 9, path="", props={}, utm=None, screen=None)
    result = store.append([full, bare])

    assert result.new_ids == {full.event_id, bare.event_id}
    assert result.duplicate_ids == set()
    assert list(store.events(APP, EPOCH)) == [full, bare]


def test_events_come_ordered_by_ts_then_id_across_days_and_pages(store):
    events = [
        make_event(ts=T0 + i * 60_000 + random.randrange(3), event_id=f"{i % 7:x}-{uuid.uuid4()}")
        for i in range(PAGE_SIZE * 2 + 500)  # spans three days and several read pages
    ]
    store.append(random.sample(events, len(events)))

    stored = list(store.events(APP, EPOCH))

    assert stored == sorted(events, key=lambda e: (e.ts, e.event_id))
    assert len({event.day for event in stored}) == 3


def test_a_day_is_read_alone(store):
    day1 = [make_event(ts=T0 + i) for i in (30, 10, 20)]
    day2 = [make_event(ts=T0 + MS_PER_DAY + i) for i in (2, 1)]
    store.append(day2 + day1)

    assert day1[0].day == "2025-10-09"
    assert list(store.events(APP, EPOCH, day="2025-10-09")) == sorted(day1, key=lambda e: e.ts)
    assert list(store.events(APP, EPOCH, day="2025-10-10")) == sorted(day2, key=lambda e: e.ts)
    assert list(store.events(APP, EPOCH, day="2025-10-11")) == []


def test_count_is_per_partition_and_zero_when_empty(store):
    store.append([make_event() for _ in range(5)] + [make_event(epoch=EPOCH + 1)])

    assert store.count_events(APP, EPOCH) == 5
    assert store.count_events(APP, EPOCH + 1) == 1
    assert store.count_events(APP + 1, EPOCH) == 0


# -- idempotency -------------------------------------------------------------------------------


def test_the_same_batch_twice_is_stored_once(store):
    batch = [make_event(ts=T0 + i, stages=(0,)) for i in range(10)]

    first = store.append(batch)
    second = store.append(batch)

    assert first.new_ids == ids(batch)
    assert second.new_ids == set()
    assert second.duplicate_ids == ids(batch)
    assert second.committed_ids == ids(batch)
    assert store.count_events(APP, EPOCH) == 10
    assert list(store.events(APP, EPOCH)) == batch
    assert len(store.stage_visitors(APP, EPOCH, 0)) == 10


def test_a_partially_overlapping_batch_stores_only_the_new_events(store):
    a, b, c, d = (make_event(ts=T0 + i) for i in range(4))
    store.append([a, b])

    result = store.append([b, c, a, d])

    assert result.new_ids == {c.event_id, d.event_id}
    assert result.duplicate_ids == {a.event_id, b.event_id}
    assert store.count_events(APP, EPOCH) == 4
    assert list(store.events(APP, EPOCH)) == [a, b, c, d]


def test_an_event_repeated_within_a_batch_is_stored_once(store):
    event = make_event()

    result = store.append([event, event])

    assert result.new_ids == {event.event_id}
    assert result.duplicate_ids == set()
    assert store.count_events(APP, EPOCH) == 1


def test_a_failed_append_stores_nothing_of_it(store):
    visitor = "ab" * 8
    good = [make_event(ts=T0 + i, visitor_id=visitor, stages=(0,)) for i in range(3)]
    unstorable = make_event(ts=T0 + 9, screen=2**70)  # fits no integer column

    with pytest.raises(Exception):  # noqa: B017 - the type is the backend's; nothing is stored
        store.append([*good, unstorable])

    assert list(store.events(APP, EPOCH)) == []
    assert store.count_events(APP, EPOCH) == 0
    assert store.stage_visitors(APP, EPOCH, 0) == {}
    assert store.last_seen(APP, EPOCH, [visitor]) == {}
    assert store.append(good).new_ids == ids(good)


# -- funnel stage entries and last seen --------------------------------------------------------


def test_stage_entry_keeps_the_earliest_ts_whatever_the_arrival_order(store):
    ann, bob = "a" * 16, "b" * 16
    store.append([make_event(visitor_id=ann, ts=T0 + 3000, stages=(0, 1))])
    store.append([make_event(visitor_id=ann, ts=T0 + 1000, stages=(1,))])
    store.append(
        [
            make_event(visitor_id=ann, ts=T0 + 2000, stages=(0, 1)),
            make_event(visitor_id=bob, ts=T0 + 900, stages=(1,)),
            make_event(visitor_id=bob, ts=T0 + 500, stages=(1,)),
        ]
    )

    assert store.stage_visitors(APP, EPOCH, 0) == {ann: T0 + 2000}
    assert store.stage_visitors(APP, EPOCH, 1) == {ann: T0 + 1000, bob: T0 + 500}
    assert store.stage_visitors(APP, EPOCH, 2) == {}


def test_last_seen_keeps_each_visitors_latest_event(store):
    ann, bob = "a" * 16, "b" * 16
    store.append([make_event(visitor_id=ann, ts=T0 + 5000, session_id="s2")])
    store.append(
        [
            make_event(visitor_id=ann, ts=T0 + 1000, session_id="s1"),  # late arrival
            make_event(visitor_id=bob, ts=T0 + 10, session_id="b1"),
            make_event(visitor_id=bob, ts=T0 + 20, session_id="b1"),
        ]
    )

    assert store.last_seen(APP, EPOCH, [ann, bob, "c" * 16]) == {
        ann: ("s2", T0 + 5000),
        bob: ("b1", T0 + 20),
    }
    assert store.last_seen(APP, EPOCH, []) == {}


def test_last_seen_answers_for_many_visitors_at_once(store):
    events = [make_event(ts=T0 + i) for i in range(1200)]
    store.append(events)

    seen = store.last_seen(APP, EPOCH, [event.visitor_id for event in events])

    assert seen == {event.visitor_id: (event.session_id, event.ts) for event in events}


def test_duplicates_do_not_move_stage_entries_or_last_seen(store):
    visitor = "d" * 16
    event = make_event(visitor_id=visitor, ts=T0 + 100, stages=(0,), session_id="s1")
    store.append([event])

    store.append([replace(event, session_id="s-other", stages=(0, 1))])  # same identity

    assert store.stage_visitors(APP, EPOCH, 1) == {}
    assert store.last_seen(APP, EPOCH, [visitor]) == {visitor: ("s1", T0 + 100)}


# -- partitions --------------------------------------------------------------------------------


def test_partitions_are_isolated_per_app_and_epoch(store):
    visitor, event_id = "e" * 16, str(uuid.uuid4())
    placements = [(APP, EPOCH, 10), (APP + 1, EPOCH, 20), (APP, EPOCH + 1, 30)]
    events = [
        make_event(
            app_id=app, epoch=epoch, ts=T0 + dt, event_id=event_id, visitor_id=visitor, stages=(0,)
        )
        for app, epoch, dt in placements
    ]

    result = store.append(events)

    assert result.new_keys == {event.key for event in events}
    for event in events:
        assert list(store.events(event.app_id, event.epoch)) == [event]
        assert store.count_events(event.app_id, event.epoch) == 1
        assert store.stage_visitors(event.app_id, event.epoch, 0) == {visitor: event.ts}
        assert store.last_seen(event.app_id, event.epoch, [visitor]) == {
            visitor: (event.session_id, event.ts)
        }
    assert store.epochs(APP) == [EPOCH, EPOCH + 1]
    assert store.epochs(APP + 1) == [EPOCH]
    assert store.epochs(APP + 2) == []


def test_delete_partition_removes_it_all_and_nothing_else(store):
    doomed = [make_event(ts=T0 + i * 1000, stages=(0,)) for i in range(PAGE_SIZE + 300)]
    kept = [make_event(epoch=EPOCH + 1, stages=(0,)), make_event(app_id=APP + 1, stages=(0,))]
    store.append(doomed + kept)

    assert store.delete_partition(APP, EPOCH) == len(doomed)

    assert list(store.events(APP, EPOCH)) == []
    assert store.count_events(APP, EPOCH) == 0
    assert store.stage_visitors(APP, EPOCH, 0) == {}
    assert store.last_seen(APP, EPOCH, [doomed[0].visitor_id]) == {}
    assert store.epochs(APP) == [EPOCH + 1]
    assert len(store.columns(APP, EPOCH, T0, T0 + MS_PER_DAY)) == 0
    for event in kept:
        assert list(store.events(event.app_id, event.epoch)) == [event]
        assert store.stage_visitors(event.app_id, event.epoch, 0) == {event.visitor_id: T0}
        columns = store.columns(event.app_id, event.epoch, T0, T0 + MS_PER_DAY)
        assert column_rows(columns) == column_rows(Columns.from_rows([event]))
    assert store.delete_partition(APP, EPOCH) == 0


def test_a_deleted_partition_takes_its_events_again(store):
    event = make_event()
    store.append([event])
    store.delete_partition(APP, EPOCH)

    assert store.append([event]).new_ids == {event.event_id}
    assert store.count_events(APP, EPOCH) == 1
    columns = store.columns(APP, EPOCH, T0, T0 + MS_PER_DAY)
    assert column_rows(columns) == column_rows(Columns.from_rows([event]))


_fresh_apps = itertools.count(1000)


@hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # each example: its own app
)
@given(data=st.data())
def test_any_sequence_of_appends_matches_a_brute_force_model(store, data):
    app = next(_fresh_apps)
    visitors = ["a" * 16, "b" * 16, "c" * 16]
    offsets = data.draw(
        st.lists(st.integers(0, 3 * MS_PER_DAY), min_size=1, max_size=12, unique=True)
    )
    pool = [
        make_event(
            app_id=app,
            ts=T0 + offset,
            visitor_id=data.draw(st.sampled_from(visitors)),
            session_id=f"s{offset}",
            stages=tuple(sorted(data.draw(st.sets(st.integers(0, 2))))),
        )
        for offset in offsets
    ]
    batches = data.draw(st.lists(st.lists(st.sampled_from(pool), max_size=6), max_size=5))

    stored: dict[str, StoredEvent] = {}
    for batch in batches:
        result = store.append(batch)
        assert result.new_ids == ids(batch) - stored.keys()
        assert result.duplicate_ids == ids(batch) & stored.keys()
        stored.update((event.event_id, event) for event in batch)
        if data.draw(st.booleans()):  # some of the deferred column parts get built
            store.flush_pending(data.draw(st.integers(1, 8)))

    in_order = sorted(stored.values(), key=lambda e: (e.ts, e.event_id))
    assert list(store.events(app, EPOCH)) == in_order
    assert store.count_events(app, EPOCH) == len(in_order)
    for stage in range(3):
        first_entries = first_entries_of(in_order, stage)
        assert store.stage_visitors(app, EPOCH, stage) == first_entries
        window = (T0 + MS_PER_DAY // 2, T0 + 2 * MS_PER_DAY)
        in_window = sum(1 for ts in first_entries.values() if window[0] <= ts < window[1])
        assert store.stage_entry_counts(app, EPOCH, [stage], *window) == {stage: in_window}
    latest = {event.visitor_id: (event.session_id, event.ts) for event in in_order}
    assert store.last_seen(app, EPOCH, visitors) == latest
    for start, end in ((T0, T0 + 4 * MS_PER_DAY), (T0 + 5_000, T0 + MS_PER_DAY + 7)):
        expected = Columns.from_rows(e for e in in_order if start <= e.ts < end)
        assert column_rows(store.columns(app, EPOCH, start, end)) == column_rows(expected)


def test_columns_hold_each_stored_event_once_in_time_then_id_order(store):
    events = synthetic_traffic(APP)
    shuffled = random.sample(events, len(events))
    for start in range(0, len(shuffled), 37):  # many small parts per day, merged as they pile up
        store.append(shuffled[start : start + 37])
        store.flush_pending()
    append_in_groups(store, shuffled[:400])  # re-sent: stored and counted once
    store.append(shuffled[:10])  # pending while read: with the parts, each event once

    columns = store.columns(APP, EPOCH, TRAFFIC_START, TRAFFIC_START + 3 * MS_PER_DAY)

    assert column_rows(columns) == column_rows(Columns.from_rows(events))
    assert len(columns) == len(events) == store.count_events(APP, EPOCH)
    assert (columns.ts[1:] >= columns.ts[:-1]).all()


def test_an_import_stores_what_appends_would_once_alongside_appended_events(store):
    events = synthetic_traffic(APP)
    half = len(events) // 2
    store.append(events[:300])  # pending (SQLite) when the import comes
    first = store.import_events(events[100:half])
    again = store.import_events(events[half - 50 :] + events[half - 50 :][:20])  # overlaps

    assert first.new_ids == ids(events[300:half]) and first.duplicate_ids == ids(events[100:300])
    assert again.new_ids == ids(events[half:]) and again.duplicate_ids == ids(
        events[half - 50 : half]
    )
    in_order = sorted(events, key=lambda e: (e.ts, e.event_id))
    assert store.count_events(APP, EPOCH) == len(events)
    assert list(store.events(APP, EPOCH)) == in_order
    for stage in range(4):
        assert store.stage_visitors(APP, EPOCH, stage) == first_entries_of(in_order, stage)
    latest = {event.visitor_id: (event.session_id, event.ts) for event in in_order}
    assert store.last_seen(APP, EPOCH, list(latest)) == latest
    columns = store.columns(APP, EPOCH, TRAFFIC_START - MS_PER_DAY, TRAFFIC_START + 5 * MS_PER_DAY)
    assert column_rows(columns) == column_rows(Columns.from_rows(in_order))


def test_ping_answers_when_up(store):
    store.ping()


# -- the insights read the same on every backend -----------------------------------------------

TRAFFIC_START = T0 - T0 % MS_PER_DAY + 5 * 3_600_000  # 2025-10-09 05:00 UTC: spans four days
STAGE_NAMES = ["Landing", "Product", "Buy", "Signup"]  # tests.conftest.TRACKED_CONFIG's funnel


def synthetic_traffic(app_id: int) -> list[StoredEvent]:
    from demo import traffic as synthetic

    first_day = dt.datetime.fromtimestamp(TRAFFIC_START / 1000, dt.UTC).date()
    return synthetic.sample(app_id=app_id, epoch=EPOCH, first_day=first_day, days=3, visitors=150)


def append_in_groups(store, events: list[StoredEvent], size: int = 500) -> None:
    """As the write-behind writer does: groups of up to 500 events."""
    for start in range(0, len(events), size):
        store.append(events[start : start + size])


def engine_answers(store, start_ms: int, end_ms: int, filters: dict) -> dict:
    """What the insights compute from the store's columns (see insights/selectors.py), with
    visitors by id (codes are the store's own)."""
    from insights import engine

    scan = engine.Scan(store.columns(APP, EPOCH, start_ms, end_ms), filters)
    funnels = {
        order: engine.funnel(scan, names=STAGE_NAMES, order=order, window_seconds=3600)
        for order in ("ordered", "strict", "any")
    }
    levels = funnels["ordered"]["levels"]
    converted = levels == len(STAGE_NAMES)
    hours = list(range(start_ms - start_ms % 3_600_000, end_ms, 3_600_000))
    answers = {
        "overview": engine.overview(scan, hours),
        "pages": engine.pages(scan),
        "technology": [engine.breakdown(scan, name) for name in ("browser", "os", "device")],
        "sources": engine.sources(scan, converted),
        "funnels": funnels,
        "dropoffs": engine.dropoffs(scan, levels, 2),
        "journeys": engine.journeys(scan, start="/", steps=3, direction="forward"),
        "journeys back": engine.journeys(scan, start="/checkout", steps=3, direction="backward"),
        "elements": engine.elements(scan, ["Pricing CTA"]),
    }
    for result in funnels.values():
        result["levels"] = by_visitor(scan, result["levels"])
    return answers


def by_visitor(scan, levels) -> dict[str, int]:
    return {
        scan.tables["visitor_id"][code]: int(level) for code, level in enumerate(levels) if level
    }


def column_rows(columns) -> list[tuple]:
    """The events of `Columns` as comparable tuples, in their order."""
    strings = [[columns.tables[name][code] for code in columns.codes[name]] for name in STRINGS]
    numbers = [columns.ts, columns.duration_ms, columns.stages, columns.id_hi, columns.id_lo]
    return list(zip(*(n.tolist() for n in numbers), *strings, strict=True))


@pytest.mark.cassandra
def test_both_backends_give_the_same_rows_for_the_same_events(sqlite_store, cassandra_store):
    events = synthetic_traffic(APP)
    append_in_groups(sqlite_store, events)
    append_in_groups(cassandra_store, events)
    ranges = [
        (TRAFFIC_START - MS_PER_DAY, TRAFFIC_START + 4 * MS_PER_DAY),  # everything
        (TRAFFIC_START + 12_345_678, TRAFFIC_START + 2 * MS_PER_DAY + 7_654_321),  # mid-day ends
        (TRAFFIC_START + 1, TRAFFIC_START + 1),  # empty
        (TRAFFIC_START + 9 * MS_PER_DAY, TRAFFIC_START + 10 * MS_PER_DAY),  # no traffic
    ]

    for start, end in ranges:
        expected = sorted(sqlite_store.scan(APP, EPOCH, start, end))
        assert sorted(cassandra_store.scan(APP, EPOCH, start, end)) == expected
    assert len(list(cassandra_store.scan(APP, EPOCH, *ranges[0]))) == len(events)
    assert list(cassandra_store.events(APP, EPOCH)) == list(sqlite_store.events(APP, EPOCH))
    for stage in range(len(STAGE_NAMES)):
        entered = cassandra_store.stage_visitors(APP, EPOCH, stage)
        assert entered == sqlite_store.stage_visitors(APP, EPOCH, stage)
    visitors = {event.visitor_id for event in events}
    assert cassandra_store.last_seen(APP, EPOCH, visitors) == sqlite_store.last_seen(
        APP, EPOCH, visitors
    )
    assert cassandra_store.count_events(APP, EPOCH) == len(events)
    assert cassandra_store.epochs(APP) == sqlite_store.epochs(APP) == [EPOCH]


@pytest.mark.cassandra
def test_both_backends_give_the_same_insights_for_the_same_events(sqlite_store, cassandra_store):
    events = synthetic_traffic(APP)
    append_in_groups(sqlite_store, events)
    append_in_groups(cassandra_store, events)
    whole = (TRAFFIC_START, TRAFFIC_START + 3 * MS_PER_DAY)
    part = (TRAFFIC_START + 40_000_000, TRAFFIC_START + 90_000_000)

    for start, end in (whole, part):
        for filters in ({}, {"device": "mobile"}, {"path": "/pricing"}, {"campaign": "Spring"}):
            expected = engine_answers(sqlite_store, start, end, filters)
            assert engine_answers(cassandra_store, start, end, filters) == expected
    assert engine_answers(sqlite_store, *whole, {})["funnels"]["ordered"]["levels"]  # not vacuous


@pytest.mark.cassandra
def test_insights_endpoints_answer_the_same_on_either_backend(
    tracked_app, owner, client_for, settings, cassandra_node, cassandra_store
):
    events = synthetic_traffic(tracked_app.pk)
    append_in_groups(get_store(), events)  # the SQLite store of the `event_store` fixture
    append_in_groups(cassandra_store, events)
    client = client_for(owner)
    queries = {
        "overview": {},
        "pages": {"device": "desktop"},
        "technology": {},
        "sources": {},
        "funnel": {},
        "funnel/dropoffs": {"stage": "2"},
        "journeys": {"start": "/", "steps": "3"},
        "elements": {},
    }

    def answers() -> dict:
        days = {"from": "2025-10-09", "to": "2025-10-12"}
        url = f"/api/v1/apps/{tracked_app.pk}/insights/"
        bodies = {
            name: client.get(url + name, {**days, **query}) for name, query in queries.items()
        }
        bodies["distinct funnel"] = client.get(url + "funnel", {**days, "distinct": "true"})
        assert {body.status_code for body in bodies.values()} == {200}
        return {name: body.json() for name, body in bodies.items()}

    on_sqlite = answers()
    settings.EVENT_STORE = "cassandra"  # get_store() now builds the Cassandra store from settings
    settings.CASSANDRA = cassandra_node.settings()

    assert answers() == on_sqlite
    assert type(get_store()).__name__ == "CassandraEventStore"
    assert on_sqlite["funnel"]["stages"][0]["visitors"] > 0


# -- SQLite backend specifics ------------------------------------------------------------------


def test_sqlite_store_reopens_its_file_with_the_data(tmp_path):
    path = tmp_path / "nested" / "events.sqlite3"
    event = make_event(stages=(0,))
    first = SQLiteEventStore(path)
    first.append([event])
    first.close()

    again = SQLiteEventStore(path)

    assert list(again.events(APP, EPOCH)) == [event]
    assert again.append([event]).duplicate_ids == {event.event_id}
    again.close()


def test_sqlite_store_builds_column_parts_for_events_stored_before_they_existed(tmp_path):
    path = tmp_path / "events.sqlite3"
    events = synthetic_traffic(APP)
    old = SQLiteEventStore(path)
    append_in_groups(old, events)
    with old._transaction() as conn:  # back to schema 1: events without column parts
        for table in ("segments", "segment_columns", "dictionary", "pending"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("ALTER TABLE partitions DROP COLUMN incarnation")
        conn.execute("PRAGMA user_version = 1")
    old.close()

    upgraded = SQLiteEventStore(path)

    columns = upgraded.columns(APP, EPOCH, TRAFFIC_START, TRAFFIC_START + 3 * MS_PER_DAY)
    assert column_rows(columns) == column_rows(Columns.from_rows(events))
    upgraded.close()


def test_event_ids_order_columns_like_their_strings():
    from eventstore.columns import _id_key, _id_keys

    uuids = [str(uuid.uuid4()) for _ in range(300)] + ["0" * 8 + "-0000-4000-8000-" + "0" * 12]
    others = ["", "x", "ABC", "é-not-a-uuid", str(uuid.uuid4()).upper()]
    others += [f"{i:x}-{uuid.uuid4()}" for i in range(20)]
    ids = uuids + others

    hi, lo = _id_keys(ids)

    keys = list(zip(hi.tolist(), lo.tolist(), strict=True))
    assert keys == [_id_key(i) for i in ids]  # at once as one by one
    assert sorted(uuids, key=lambda i: keys[ids.index(i)]) == sorted(uuids)
    first_bytes = sorted(others, key=lambda i: i.encode()[:16])
    assert sorted(others, key=lambda i: keys[ids.index(i)]) == first_bytes


def test_sqlite_codes_stay_right_when_another_process_recreates_the_partition(tmp_path):
    path = tmp_path / "events.sqlite3"
    mine, theirs = SQLiteEventStore(path), SQLiteEventStore(path)  # two server processes
    mine.append([make_event(visitor_id="x" * 16), make_event(visitor_id="y" * 16)])
    theirs.delete_partition(APP, EPOCH)
    theirs.append([make_event(visitor_id="y" * 16)])  # "y" is now code 0

    mine.append([make_event(ts=T0 + 5, visitor_id="x" * 16)])

    columns = mine.columns(APP, EPOCH, T0, T0 + MS_PER_DAY)
    visitors = [columns.tables["visitor_id"][code] for code in columns.codes["visitor_id"]]
    assert visitors == ["y" * 16, "x" * 16]
    mine.close()
    theirs.close()


def test_sqlite_columns_not_asked_for_are_not_read(sqlite_store):
    sqlite_store.append([make_event(path="/a")])
    assert sqlite_store.flush_pending() == 1  # from pending events to a column part

    columns = sqlite_store.columns(APP, EPOCH, T0, T0 + MS_PER_DAY, names=["ts", "path"])

    assert columns.tables["path"][columns.codes["path"][0]] == "/a"
    with pytest.raises(LookupError, match="browser"):
        columns.codes["browser"]


def test_sqlite_store_refuses_a_newer_schema(tmp_path):
    import sqlite3

    from eventstore import StoreUnavailable

    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(StoreUnavailable, match="newer"):
        SQLiteEventStore(path)


def test_closed_sqlite_store_is_unavailable(sqlite_store):
    from eventstore import StoreUnavailable

    sqlite_store.close()

    with pytest.raises(StoreUnavailable):
        sqlite_store.ping()
    with pytest.raises(StoreUnavailable):
        sqlite_store.append([make_event()])


def test_get_store_builds_the_configured_backend_once(settings, tmp_path):
    settings.EVENT_STORE = "sqlite"
    settings.EVENT_STORE_SQLITE_PATH = tmp_path / "configured.sqlite3"

    store = get_store()

    assert isinstance(store, SQLiteEventStore)
    assert store.path == tmp_path / "configured.sqlite3"
    assert get_store() is store
    reset_store()
    assert get_store() is not store
    reset_store()
