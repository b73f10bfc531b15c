"""The write-behind writer: batching, per-submitter results, back-pressure, failures."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from eventstore import (
    StoreUnavailable,
    WriteBehind,
    get_store,
    get_writer,
    reset_store,
    reset_writer,
)
from eventstore import writer as writer_module
from eventstore.sqlite import SQLiteEventStore
from eventstore.writer import MAX_GROUP_EVENTS
from tests.test_eventstore_contract import APP, EPOCH, T0, make_event


class RecordingStore(SQLiteEventStore):
    """The real SQLite store, recording its append calls. While `held`, each append waits for a
    permit (`allow`); the calls numbered in `failing_calls` (from 1) raise StoreUnavailable."""

    def __init__(self, path) -> None:
        super().__init__(path)
        self.calls: list[int] = []  # events per call
        self.entered = threading.Semaphore(0)  # released once per append entered
        self.held = False
        self.failing_calls: set[int] = set()
        self._permits = threading.Semaphore(0)

    def allow(self, calls: int = 1) -> None:
        self._permits.release(calls)

    def release(self) -> None:
        self.held = False
        self.allow(1000)

    def append(self, events):
        self.calls.append(len(events))
        number = len(self.calls)
        self.entered.release()
        if self.held:
            assert self._permits.acquire(timeout=10), "the test never allowed this append"
        if number in self.failing_calls:
            raise StoreUnavailable("disk on fire")
        return super().append(events)


@pytest.fixture
def store(tmp_path):
    store = RecordingStore(tmp_path / "events.sqlite3")
    yield store
    store.close()


@pytest.fixture
def writer(store):
    writer = WriteBehind(store)
    writer.start()
    yield writer
    store.release()
    writer.stop(5)


async def entered(store: RecordingStore, times: int = 1) -> None:
    """Wait (off the loop) until the writer thread has entered `append` `times` more times."""
    for _ in range(times):
        assert await asyncio.to_thread(store.entered.acquire, True, 5)


def batch(n: int, **overrides) -> list:
    return [make_event(ts=T0 + i, **overrides) for i in range(n)]


def ids(events) -> set[str]:
    return {event.event_id for event in events}


async def test_concurrent_submitters_get_exactly_their_own_results(writer, store):
    batches = [batch(1 + i % 40) for i in range(60)]
    await writer.submit(batches[0][:1])  # already stored: a duplicate for its submitter

    results = await asyncio.gather(*(writer.submit(events) for events in batches))

    for events, result in zip(batches, results, strict=True):
        assert result.committed_ids == ids(events)
    assert results[0].duplicate_ids == {batches[0][0].event_id}
    assert results[0].new_ids == ids(batches[0][1:])
    assert all(result.duplicate_ids == set() for result in results[1:])
    assert store.count_events(APP, EPOCH) == sum(map(len, batches))


async def test_submissions_waiting_together_are_committed_in_one_append(writer, store):
    store.held = True
    first = asyncio.ensure_future(writer.submit(batch(3)))
    await entered(store)  # the writer is busy with the first submission
    submissions = MAX_GROUP_EVENTS // 4 + 25  # a full group of 4-event submissions, then 100
    waiting = [asyncio.ensure_future(writer.submit(batch(4))) for _ in range(submissions)]
    await asyncio.sleep(0.05)

    store.release()
    results = await asyncio.gather(first, *waiting)

    assert store.calls == [3, MAX_GROUP_EVENTS, 100]  # one transaction per group
    assert all(len(result.new_ids) == len(result.committed_ids) for result in results)
    assert store.count_events(APP, EPOCH) == 3 + 4 * submissions


async def test_linger_gathers_submissions_arriving_shortly_after(store):
    writer = WriteBehind(store, linger=0.5)
    writer.start()
    try:
        first = asyncio.ensure_future(writer.submit(batch(2)))
        await asyncio.sleep(0.02)
        await asyncio.gather(first, writer.submit(batch(3)))
    finally:
        writer.stop(5)

    assert store.calls == [5]


async def test_a_key_submitted_twice_in_one_group_is_new_for_one_submitter_only(writer, store):
    store.held = True
    blocker = asyncio.ensure_future(writer.submit(batch(1)))
    await entered(store)
    events = batch(3)
    twins = [asyncio.ensure_future(writer.submit(events)) for _ in range(2)]
    await asyncio.sleep(0.02)

    store.release()
    await blocker
    first, second = await asyncio.gather(*twins)

    assert len(store.calls) == 2
    assert first.new_ids == ids(events)
    assert second.duplicate_ids == ids(events)
    assert second.new_ids == set()


async def test_a_full_queue_makes_submit_wait_while_the_loop_keeps_running(store):
    store.held = True
    writer = WriteBehind(store, max_pending=10)
    writer.start()
    try:
        in_append = asyncio.ensure_future(writer.submit(batch(10)))
        await entered(store)
        queued = asyncio.ensure_future(writer.submit(batch(10)))
        blocked = asyncio.ensure_future(writer.submit(batch(5)))
        started = time.monotonic()
        for _ in range(20):
            await asyncio.sleep(0.005)

        assert time.monotonic() - started < 2  # the loop ran on while `blocked` waited
        assert not blocked.done() and not queued.done()
        assert writer._pending == 10  # `blocked` is not in the queue: it waits for room

        store.release()
        results = await asyncio.wait_for(asyncio.gather(in_append, queued, blocked), 5)
    finally:
        store.release()
        writer.stop(5)

    assert [len(result.new_ids) for result in results] == [10, 10, 5]
    assert store.count_events(APP, EPOCH) == 25


async def test_a_failed_append_fails_only_its_group_and_the_writer_goes_on(writer, store):
    store.held = True
    store.failing_calls = {2}
    blocker = asyncio.ensure_future(writer.submit(batch(1)))
    await entered(store)  # call 1 holds the writer while the doomed group queues up
    doomed = [batch(2), batch(3)]
    failing = [asyncio.ensure_future(writer.submit(events)) for events in doomed]
    await asyncio.sleep(0.02)
    store.allow()
    await entered(store)  # call 2: the doomed group
    later = batch(4)
    survivor = asyncio.ensure_future(writer.submit(later))
    await asyncio.sleep(0.02)

    store.release()
    outcomes = await asyncio.gather(*failing, return_exceptions=True)

    await blocker
    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert (await survivor).new_ids == ids(later)
    assert store.calls == [1, 5, 4]
    assert store.count_events(APP, EPOCH) == 1 + 4  # nothing of the failed group was stored
    retried = await writer.submit(doomed[0] + doomed[1])
    assert retried.new_ids == ids(doomed[0] + doomed[1])


async def test_unstorable_events_fail_only_their_submitter(writer, store):
    store.held = True
    blocker = asyncio.ensure_future(writer.submit(batch(1)))
    await entered(store)
    good = [batch(2), batch(3)]
    bad = [make_event(screen=2**70)]  # fits no integer column
    submissions = [asyncio.ensure_future(writer.submit(events)) for events in (good[0], bad)]
    submissions.append(asyncio.ensure_future(writer.submit(good[1])))
    await asyncio.sleep(0.02)

    store.release()
    await blocker
    first, failure, third = await asyncio.gather(*submissions, return_exceptions=True)

    assert first.new_ids == ids(good[0])
    assert isinstance(failure, Exception) and not isinstance(failure, StoreUnavailable)
    assert third.new_ids == ids(good[1])


async def test_stop_commits_what_is_queued_then_refuses_submissions(writer, store):
    store.held = True
    pending = [asyncio.ensure_future(writer.submit(batch(5))) for _ in range(4)]
    await entered(store)

    stopping = asyncio.ensure_future(asyncio.to_thread(writer.stop, 5))
    await asyncio.sleep(0.02)
    with pytest.raises(StoreUnavailable):
        await writer.submit(batch(1))
    store.release()

    assert await stopping is True
    assert all(len(result.new_ids) == 5 for result in await asyncio.gather(*pending))
    assert store.count_events(APP, EPOCH) == 20


def test_submit_sync_returns_once_committed(writer, store):
    events = batch(7)

    result = writer.submit_sync(events)

    assert result.new_ids == ids(events)
    assert store.count_events(APP, EPOCH) == 7
    assert writer.submit_sync(events).duplicate_ids == ids(events)


def test_submit_sync_raises_when_the_store_fails(writer, store):
    store.failing_calls = {1}

    with pytest.raises(StoreUnavailable):
        writer.submit_sync(batch(2))
    assert writer.submit_sync(batch(2, visitor_id="f" * 16)).new_ids


async def test_an_empty_submission_needs_no_round_trip(writer, store):
    assert (await writer.submit([])).committed_ids == set()
    assert writer.submit_sync([]).committed_ids == set()
    assert store.calls == []


async def test_the_process_wide_writer_follows_the_process_wide_store(settings, tmp_path):
    settings.EVENT_STORE_SQLITE_PATH = tmp_path / "events.sqlite3"
    try:
        writer = get_writer()
        assert get_writer() is writer
        assert writer.store is get_store()
        events = batch(3)
        assert (await writer.submit(events)).new_ids == ids(events)

        reset_writer()
        assert not writer.running
        assert get_writer() is not writer
    finally:
        reset_store()


async def test_an_idle_writer_builds_the_column_parts_of_what_it_stored(writer, store):
    events = batch(30)
    await writer.submit(events)

    deadline = time.monotonic() + 5
    while store._query("SELECT COUNT(*) FROM pending")[0][0] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)

    assert store._query("SELECT COUNT(*) FROM pending")[0][0] == 0
    assert store._query("SELECT SUM(events) FROM segments")[0][0] == len(events)
    columns = store.columns(APP, EPOCH, T0, T0 + 86_400_000)
    assert sorted(columns.ts.tolist()) == sorted(event.ts for event in events)


async def test_a_group_of_loop_and_thread_submitters_answers_each_with_its_own_part(writer, store):
    store.held = True
    blocker = asyncio.ensure_future(writer.submit(batch(1, visitor_id="0" * 16)))
    await entered(store)  # what follows waits together: one group
    from_thread = batch(5, visitor_id="1" * 16)
    thread_result = asyncio.ensure_future(asyncio.to_thread(writer.submit_sync, from_thread))
    while writer._pending < 5:  # the thread's submission is queued first
        await asyncio.sleep(0.01)
    on_loop = [batch(3, visitor_id=f"{i + 2:016x}") for i in range(10)]
    waiting = [asyncio.ensure_future(writer.submit(events)) for events in on_loop]
    await asyncio.sleep(0.05)

    store.release()
    results = await asyncio.gather(blocker, thread_result, *waiting)

    assert store.calls == [1, 5 + 3 * 10]
    for events, result in zip([from_thread, *on_loop], results[1:], strict=True):
        assert result.new_ids == ids(events)
    assert store.count_events(APP, EPOCH) == 1 + 5 + 30


async def test_an_idle_writer_builds_a_backlog_slice_after_slice_without_pausing(
    store, monkeypatch
):
    monkeypatch.setattr(writer_module, "IDLE_FLUSH_EVENTS", 10)
    monkeypatch.setattr(writer_module, "IDLE_SECONDS", 1.0)
    writer = WriteBehind(store)
    writer.start()
    try:
        await writer.submit(batch(100))  # ten slices: ten idle pauses would take 10 s
        deadline = time.monotonic() + 4
        while store._query("SELECT COUNT(*) FROM pending")[0][0] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        writer.stop(5)

    assert store._query("SELECT COUNT(*) FROM pending")[0][0] == 0
    assert store._query("SELECT SUM(events) FROM segments")[0][0] == 100
