"""Write-behind: one thread commits the events of every connection, many batches per transaction.

Consumers `await writer.submit(events)`; the writer thread takes every submission waiting (up to
`max_group` events), appends them all in ONE `store.append` call (one transaction), and hands
each submitter its own part of the result. The queue is bounded: while it is full, `submit`
waits without blocking the event loop, so a consumer stops reading its socket (back-pressure).
If an append fails, every submission of that group fails with StoreUnavailable and nothing of
it is acknowledged; the writer carries on with later submissions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from .backends import get_store
from .base import EventStore
from .values import AppendResult, StoredEvent, StoreUnavailable

logger = logging.getLogger(__name__)

MAX_PENDING_EVENTS = 2000  # queued events before submitters wait: ~2 groups
# Events per transaction (whole submissions: may exceed it by one). Fewer, larger commits cost
# less per event: 50 sockets x 20 events in one commit instead of two took ~6 % less CPU and
# acked ~25 % more events/s than 500 (in-process A/B in docs/benchmarks.md, "Ingest").
MAX_GROUP_EVENTS = 1000
IDLE_SECONDS = 0.05  # nothing queued this long: the writer does the store's deferred work
IDLE_FLUSH_EVENTS = 5000  # deferred work per slice (the store's column parts: ~20-30 ms)
FLUSH_EVERY = 5.0  # seconds: a slice of deferred work at least this often, even when busy
STOP_TIMEOUT = 10.0


@dataclass(slots=True)
class _Submission:
    events: tuple[StoredEvent, ...]
    # Settled once, from the writer thread, with a result or an error: `done` is an asyncio
    # future of `loop`, or (loop None) a concurrent future of a blocked thread.
    done: asyncio.Future | concurrent.futures.Future
    loop: asyncio.AbstractEventLoop | None = None


class WriteBehind:
    """A single writer thread in front of an `EventStore`.

    `linger` (seconds) lets the thread wait for more submissions when fewer than `max_group`
    events are waiting; by default it takes what is there (while it commits a group, the next
    one piles up, so groups grow with the load and latency stays low when idle).
    """

    def __init__(
        self,
        store: EventStore,
        *,
        max_pending: int = MAX_PENDING_EVENTS,
        max_group: int = MAX_GROUP_EVENTS,
        linger: float = 0.0,
    ) -> None:
        self.store = store
        self.max_pending = max_pending
        self.max_group = max_group
        self.linger = linger
        self._lock = threading.Lock()
        self._has_items = threading.Condition(self._lock)  # the writer thread waits on it
        self._has_room = threading.Condition(self._lock)  # submit_sync callers wait on it
        self._queue: deque[_Submission] = deque()
        self._pending = 0  # events in the queue
        self._room_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._state = "new"  # new -> running -> stopping -> stopped
        self._thread: threading.Thread | None = None
        self._flushed_at = time.monotonic()
        self._backlog = False  # the last idle slice of deferred work was full: more may be left

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._state != "new":
                raise RuntimeError("a WriteBehind can be started once")
            self._state = "running"
        self._thread = threading.Thread(target=self._run, name="eventstore-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = STOP_TIMEOUT) -> bool:
        """Refuse new submissions, commit the queued ones; True once the thread has finished.

        Blocks up to `timeout`: from async code, run it in a thread.
        """
        with self._lock:
            if self._state in ("new", "running"):
                self._state = "stopping" if self._thread else "stopped"
            self._has_items.notify_all()
            self._has_room.notify_all()
            waiters = self._take_room_waiters()
        _wake(waiters)  # so that they see the writer is stopping
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._state == "running"

    # -- submitting --------------------------------------------------------------------------

    async def submit(self, events: Sequence[StoredEvent]) -> AppendResult:
        """Queue events and wait until they are committed; the result covers these events.

        Waits (without blocking the loop) while the queue is full. Raises StoreUnavailable when
        the append failed or the writer is not running: nothing of these events may be acked.
        """
        if not events:
            return AppendResult()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        submission = _Submission(tuple(events), done, loop)
        while (room := self._offer(submission, loop)) is not None:
            await room
        return await done

    def submit_sync(self, events: Sequence[StoredEvent], *, timeout: float = 30.0) -> AppendResult:
        """`submit` for a worker thread (the HTTP fallback): blocks it until committed."""
        if not events:
            return AppendResult()
        done: concurrent.futures.Future[AppendResult] = concurrent.futures.Future()
        submission = _Submission(tuple(events), done)
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self._try_enqueue(submission):
                if not self._has_room.wait(deadline - time.monotonic()):
                    raise StoreUnavailable("the event writer's queue stayed full")
        try:
            return done.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise StoreUnavailable("events not committed in time") from None

    def _offer(self, submission: _Submission, loop: asyncio.AbstractEventLoop):
        """Enqueue and return None, or return a future that resolves when there may be room."""
        with self._lock:
            if self._try_enqueue(submission):
                return None
            room = loop.create_future()
            self._room_waiters.append((loop, room))
            return room

    def _try_enqueue(self, submission: _Submission) -> bool:
        """With the lock held. An oversized submission still enters an empty queue."""
        if self._state != "running":
            raise StoreUnavailable("the event writer is not running")
        size = len(submission.events)
        if self._pending and self._pending + size > self.max_pending:
            return False
        self._queue.append(submission)
        self._pending += size
        self._has_items.notify()
        return True

    def _take_room_waiters(self) -> list:
        waiters, self._room_waiters = self._room_waiters, []
        return waiters

    # -- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while (group := self._take_group()) is not None:
            try:
                self._commit(group)
            except Exception:  # a bug here must not stop ingest for the whole process
                logger.exception("event writer: unexpected error")
            if time.monotonic() - self._flushed_at > FLUSH_EVERY:
                self._flush_idle()

    def _take_group(self) -> list[_Submission] | None:
        with self._lock:
            while not self._queue:
                if self._state != "running":
                    self._state = "stopped"
                    return None
                # Idle: the store's deferred work, unlocked; slice after slice while a backlog
                # is left (so the store is built as soon as it can be, not 50 ms per slice).
                if (self._backlog or not self._has_items.wait(IDLE_SECONDS)) and not self._queue:
                    self._lock.release()
                    try:
                        self._backlog = self._flush_idle()
                    finally:
                        self._lock.acquire()
            group: list[_Submission] = []
            size = self._pop_into(group, 0)
            deadline = time.monotonic() + self.linger
            while size < self.max_group and self._state == "running":
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._has_items.wait(remaining):
                    break
                size = self._pop_into(group, size)
            self._has_room.notify_all()
            waiters = self._take_room_waiters()
        _wake(waiters)
        return group

    def _flush_idle(self) -> bool:
        """One slice of the store's deferred work (column parts); True if it was a full one."""
        self._flushed_at = time.monotonic()
        try:
            return self.store.flush_pending(IDLE_FLUSH_EVENTS) >= IDLE_FLUSH_EVENTS
        except Exception:  # the store down, or a bug: ingest goes on, the next idle retries
            logger.warning("event writer: deferred store work failed", exc_info=True)
            return False

    def _pop_into(self, group: list[_Submission], size: int) -> int:
        while self._queue and size < self.max_group:
            submission = self._queue.popleft()
            group.append(submission)
            size += len(submission.events)
            self._pending -= len(submission.events)
        return size

    def _commit(self, group: list[_Submission]) -> None:
        events = [event for submission in group for event in submission.events]
        try:
            result = self.store.append(events)
        except StoreUnavailable as exc:
            logger.warning("event store append failed (%d events): %s", len(events), exc)
            _settle([(submission, None, _unavailable(exc)) for submission in group])
            return
        except Exception as exc:
            if len(group) > 1:  # bad data in one submission: commit the others without it
                for submission in group:
                    self._commit([submission])
                return
            logger.warning("event store rejected a submission: %r", exc)
            _settle([(group[0], None, exc)])
            return
        _settle([(s, part, None) for s, part in zip(group, _split(group, result), strict=True)])


def _split(group: list[_Submission], result: AppendResult) -> list[AppendResult]:
    """Each submission's part; a key new to the group is new for its first submitter only."""
    unclaimed = set(result.new_keys)
    parts = []
    for submission in group:
        keys = {event.key for event in submission.events}
        new = keys & unclaimed
        unclaimed -= new
        parts.append(AppendResult(new_keys=frozenset(new), duplicate_keys=frozenset(keys - new)))
    return parts


def _unavailable(cause: StoreUnavailable) -> StoreUnavailable:
    error = StoreUnavailable(str(cause))  # one instance per submitter: tracebacks stay apart
    error.__cause__ = cause
    return error


def _resolve(future, result: AppendResult | None, error: BaseException | None) -> None:
    if future.done():  # the submitter was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _resolve_all(settled: list[tuple]) -> None:
    for future, result, error in settled:
        _resolve(future, result, error)


def _settle(settled: list[tuple[_Submission, AppendResult | None, BaseException | None]]) -> None:
    """Hand each submitter its outcome: a blocked thread at once, and each event loop all of
    its submitters' outcomes in ONE call (one wake-up of the loop per group, not one each)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple]] = {}
    for submission, result, error in settled:
        if submission.loop is None:
            _resolve(submission.done, result, error)
        else:
            by_loop.setdefault(submission.loop, []).append((submission.done, result, error))
    _post(by_loop)


def _wake(waiters: list) -> None:
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple]] = {}
    for loop, room in waiters:
        by_loop.setdefault(loop, []).append((room, None, None))
    _post(by_loop)


def _post(by_loop: dict[asyncio.AbstractEventLoop, list[tuple]]) -> None:
    for loop, outcomes in by_loop.items():
        with contextlib.suppress(RuntimeError):  # RuntimeError: the loop is closed, nobody waits
            loop.call_soon_threadsafe(_resolve_all, outcomes)


# -- the process-wide writer -----------------------------------------------------------------

_writer: WriteBehind | None = None
_writer_lock = threading.Lock()


def get_writer() -> WriteBehind:
    """The process-wide writer in front of `get_store()`, started on first use."""
    global _writer
    store = get_store()
    with _writer_lock:
        if _writer is None or _writer.store is not store:
            if _writer is not None:
                _writer.stop()
            _writer = WriteBehind(store)
            _writer.start()
        return _writer


def reset_writer(timeout: float | None = STOP_TIMEOUT) -> None:
    """Stop the process-wide writer (committing what is queued); the next use starts anew."""
    global _writer
    with _writer_lock:
        writer, _writer = _writer, None
    if writer is not None:
        writer.stop(timeout)


def _forget_parent_writer() -> None:
    """In a forked child: the parent's writer, its thread and its queue stay the parent's; the
    child's first `get_writer()` starts its own."""
    global _writer, _writer_lock
    _writer, _writer_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_parent_writer)
