"""The event store contract: one suite, run against every backend.

A backend joins by adding its name to the `store` fixture's params and a `<name>_store` fixture
that yields a fresh, empty store.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import replace

import pytest

from ingest.eventstore import get_store, reset_store
from ingest.eventstore.base import MS_PER_DAY, StoredEvent
from ingest.eventstore.sqlite import PAGE_SIZE, SCHEMA_VERSION, SQLiteEventStore

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


@pytest.fixture(params=["sqlite"])  # + pytest.param("cassandra", marks=pytest.mark.cassandra)
def store(request):
    """Each backend in turn, fresh and empty (built by the `<name>_store` fixture)."""
    return request.getfixturevalue(f"{request.param}_store")


@pytest.fixture
def sqlite_store(tmp_path):
    store = SQLiteEventStore(tmp_path / "events.sqlite3")
    yield store
    store.close()


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
    for event in kept:
        assert list(store.events(event.app_id, event.epoch)) == [event]
        assert store.stage_visitors(event.app_id, event.epoch, 0) == {event.visitor_id: T0}
    assert store.delete_partition(APP, EPOCH) == 0


def test_a_deleted_partition_takes_its_events_again(store):
    event = make_event()
    store.append([event])
    store.delete_partition(APP, EPOCH)

    assert store.append([event]).new_ids == {event.event_id}
    assert store.count_events(APP, EPOCH) == 1


def test_ping_answers_when_up(store):
    store.ping()


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


def test_sqlite_store_refuses_a_newer_schema(tmp_path):
    import sqlite3

    from ingest.eventstore import StoreUnavailable

    path = tmp_path / "events.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(StoreUnavailable, match="newer"):
        SQLiteEventStore(path)


def test_closed_sqlite_store_is_unavailable(sqlite_store):
    from ingest.eventstore import StoreUnavailable

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
