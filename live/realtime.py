"""Realtime figures of apps for the dashboards subscribed to them, fed by ingest.

`note_events` subscribes to the outbox's traffic (what ingest committed and acked): it appends
to an in-process buffer and returns (it never blocks on I/O and never raises). A per-process asyncio
task on the server's event loop then adds the buffer to the shared state (`live.state`: Redis
or memory) and pushes a snapshot to the app's group `app.<id>.live` (visitors active in the last
5 minutes, events per second, the latest events), at most once a second per app across every
process sharing the state. The first events after a quiet second are pushed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from funnels.selectors import frozen_config
from live import constants as c
from live.state import Contribution, Snapshot, get_state

log = logging.getLogger(__name__)

IDLE_EXIT_SECONDS = 30.0  # the flusher task ends after this long without traffic
MAX_BUFFERED_VISITORS = 10_000  # per app, between two flushes


@dataclass
class _Buffer:
    count: int = 0
    visitors: dict[str, int] = field(default_factory=dict)
    latest: deque = field(default_factory=lambda: deque(maxlen=c.LATEST_EVENTS))

    def add(self, events: Sequence, now_ms: int) -> None:
        self.count += len(events)
        for event in events:
            ts = min(event.ts, now_ms)
            if event.visitor_id in self.visitors or len(self.visitors) < MAX_BUFFERED_VISITORS:
                self.visitors[event.visitor_id] = max(ts, self.visitors.get(event.visitor_id, 0))
        for event in events[-c.LATEST_EVENTS :]:
            self.latest.append((event.epoch, event.stages, event.path, event.type, event.ts))


class _Flusher:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # the HTTP fallback notes events from worker threads
        self.buffers: dict[int, _Buffer] = {}
        self.retry_at: dict[int, float] = {}  # app -> monotonic time of its next claim
        self.stage_names: dict[tuple[int, int], list[str]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task | None = None
        self.wakeup: asyncio.Event | None = None
        self.last_error_log = 0.0

    # -- any thread ----------------------------------------------------------------------------

    def note(self, app_id: int, events: Sequence) -> None:
        now_ms = int(time.time() * 1000)
        with self.lock:
            self.buffers.setdefault(app_id, _Buffer()).add(events, now_ms)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._wake_from_thread()
        else:
            self.ensure_running()

    def _wake_from_thread(self) -> None:
        loop, task, wakeup = self.loop, self.task, self.wakeup
        if loop is not None and task is not None and not task.done() and loop.is_running():
            loop.call_soon_threadsafe(wakeup.set)
        else:
            # In a sync view under the ASGI server this runs on the server's loop.
            async_to_sync(self._ensure_running_async)()

    async def _ensure_running_async(self) -> None:
        self.ensure_running()

    # -- the event loop ------------------------------------------------------------------------

    def ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.loop is not loop:
            self.loop, self.wakeup = loop, asyncio.Event()
            self.task = loop.create_task(self._run(), name="live-realtime-flusher")
        self.wakeup.set()

    async def _run(self) -> None:
        idle_since = time.monotonic()
        while True:
            timeout = IDLE_EXIT_SECONDS
            if self.retry_at:
                timeout = max(0.0, min(self.retry_at.values()) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout)
            self.wakeup.clear()
            with self.lock:
                buffers, self.buffers = self.buffers, {}
            if buffers or self.retry_at:
                idle_since = time.monotonic()
                await self._flush(buffers)
            elif time.monotonic() - idle_since >= IDLE_EXIT_SECONDS:
                return

    async def _flush(self, buffers: dict[int, _Buffer]) -> None:
        now = time.monotonic()
        due = {app for app, at in self.retry_at.items() if at <= now}
        for app_id in set(buffers) | due:
            self.retry_at.pop(app_id, None)
            try:
                await self._flush_app(app_id, buffers.get(app_id))
            except Exception:
                self._log_failure(app_id)

    async def _flush_app(self, app_id: int, buffer: _Buffer | None) -> None:
        contribution = await self._contribution(app_id, buffer) if buffer is not None else None
        now_ms = int(time.time() * 1000)
        result = await get_state().realtime_flush(app_id, contribution, now_ms)
        if isinstance(result, Snapshot):
            await get_channel_layer().group_send(c.app_group(app_id), _message(app_id, result))
        elif result is not None:
            self.retry_at[app_id] = time.monotonic() + result

    async def _contribution(self, app_id: int, buffer: _Buffer) -> Contribution:
        latest = []
        for epoch, stages, path, kind, ts in buffer.latest:
            names = await self._stage_names(app_id, epoch) if stages else []
            latest.append(
                {
                    "path": path,
                    "type": kind,
                    "stages": [names[i] for i in stages if i < len(names)],
                    "ts": ts,
                }
            )
        return Contribution(count=buffer.count, visitors=buffer.visitors, latest=latest)

    async def _stage_names(self, app_id: int, epoch: int) -> list[str]:
        """The funnel stage names of an (app, epoch): frozen, so cached for good."""
        key = (app_id, epoch)
        if key not in self.stage_names:
            self.stage_names[key] = await database_sync_to_async(_frozen_stage_names)(*key)
        return self.stage_names[key]

    def _log_failure(self, app_id: int) -> None:
        if time.monotonic() - self.last_error_log > 60:
            self.last_error_log = time.monotonic()
            log.exception("realtime: flush of app %s failed (logged once a minute)", app_id)


def _frozen_stage_names(app_id: int, epoch: int) -> list[str]:
    config = frozen_config(app_id, epoch) or {}
    return [stage.get("name", "") for stage in config.get("funnel", {}).get("stages", [])]


def _message(app_id: int, snapshot: Snapshot) -> dict:
    return {
        "type": c.LAYER_REALTIME,
        "app": app_id,
        "visitors": snapshot.visitors,
        "events_per_second": snapshot.events_per_second,
        "latest": snapshot.latest,
    }


_flusher = _Flusher()


def note_events(app_id: int, events: Sequence) -> None:
    """Note events ingest committed and acked (StoredEvent-like: visitor_id, ts, epoch, path,
    type, stages). Cheap, never raises: realtime figures must not slow or break ingest."""
    if not events:
        return
    try:
        _flusher.note(app_id, events)
    except Exception:
        log.exception("realtime: could not note events of app %s", app_id)


def reset() -> None:
    """Forget buffers, pending pushes and caches (tests; the flusher task ends with its loop)."""
    global _flusher
    task, loop = _flusher.task, _flusher.loop
    if task is not None and not task.done() and loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(task.cancel)
    _flusher = _Flusher()
