"""The ingest websocket: /ws/ingest?token=TOKEN (protocol in docs/ingest-protocol.md).

Thin: authenticate at connect (token, Origin), then per frame parse, validate, commit through
the write-behind writer, and ack only what is committed. The per-frame path never touches the
ORM, so it skips Channels' per-message database-connection housekeeping.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from eventstore import StoreUnavailable, get_writer
from ingest import constants as c
from ingest import services
from ingest.fastcheck import fast_ack_ids
from ingest.inbox import InboxFull, get_inbox
from ingest.limits import Place, get_limits

log = logging.getLogger(__name__)


def header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


# (token, epoch) -> its re-check under way: one query re-checks a token for every socket of
# the process that uses it.
_rechecks: dict[tuple[str, int], asyncio.Future] = {}


def _recheck(connection: services.Connection) -> asyncio.Future:
    """The re-check of the connection's token under way on this loop, or a new one."""
    key = (connection.token, connection.epoch)
    check = _rechecks.get(key)
    if check is None or check.get_loop() is not asyncio.get_running_loop():
        check = asyncio.ensure_future(database_sync_to_async(services.recheck_token)(connection))
        _rechecks[key] = check
        check.add_done_callback(functools.partial(_recheck_done, key))
    return check


def _recheck_done(key: tuple[str, int], done: asyncio.Future) -> None:
    if _rechecks.get(key) is done:
        del _rechecks[key]
    if not done.cancelled():
        done.exception()  # retrieved: a refusal reaches the sockets through the token's age


class IngestConsumer(AsyncWebsocketConsumer):
    connection: services.Connection | None = None
    place: Place | None = None
    captured: int | None = None  # the connection's number in the inbox, in capture mode
    # No group ever talks to an ingest socket: without a channel layer it needs no channel of
    # its own, and it goes on when the layer (Redis) is down.
    channel_layer_alias = "ingest needs no channel layer"

    async def dispatch(self, message):
        # Frames never touch the ORM: skip the per-message close_old_connections hop.
        if message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("token") or [None])[0]
        ip = (self.scope.get("client") or ("", 0))[0] or ""
        self.place = get_limits().admit(ip=ip, token=token or "")  # before anything costly
        if self.place is None:
            await self.accept()
            await self.close(code=c.RATE_LIMITED)
            return
        try:
            self.connection = await database_sync_to_async(services.open_connection)(
                token=token,
                origin=header(self.scope, b"origin"),
                user_agent=header(self.scope, b"user-agent"),
                ip=ip,
                builds=not settings.INGEST_CAPTURE,
            )
        except services.ConnectionRefused as exc:
            log.info("ingest handshake refused (%s): %s", exc.code, exc.reason)
            await self.accept()
            await self.close(code=exc.code)
            return
        except StoreUnavailable as exc:
            log.warning("ingest handshake refused: event store unavailable (%s)", exc)
            await self.accept()
            await self.close(code=c.STORE_FAILING)
            return
        self.last_frame = time.monotonic()
        if settings.INGEST_CAPTURE:
            self.captured = get_inbox().open_connection(self.connection.facts())
        await self.accept()
        await self.send(text_data=orjson.dumps(self.connection.hello()).decode())
        self.idle_watch = asyncio.create_task(self._close_when_idle())

    async def disconnect(self, code):
        if self.place is not None:
            get_limits().release(self.place)
            self.place = None
        if self.captured is not None:
            get_inbox().close_connection(self.captured)
            self.captured = None
        watch = getattr(self, "idle_watch", None)
        if watch is not None:
            watch.cancel()
        if self.connection is not None and self.connection.dropped:
            await database_sync_to_async(services.record_dropped)(self.connection)

    async def _close_when_idle(self):
        timeout = settings.INGEST_IDLE_SECONDS
        while True:
            await asyncio.sleep(max(1.0, timeout - (time.monotonic() - self.last_frame)))
            if time.monotonic() - self.last_frame >= timeout:
                await self.close(code=c.TOO_SLOW)
                return

    async def receive(self, text_data=None, bytes_data=None):
        if self.connection is None:
            return
        if not get_limits().frame(self.place):  # a flood of frames, however small
            await self._cut()
            return
        self.last_frame = time.monotonic()
        data = text_data if text_data is not None else bytes_data
        if data is None or len(data) > c.MAX_FRAME_BYTES:
            await self.close(code=c.TOO_LARGE if data else c.BAD_MESSAGE)
            return
        if self.captured is not None and await self._captured_at_once(data):
            return
        try:
            message = orjson.loads(data)
        except orjson.JSONDecodeError:
            await self.close(code=c.BAD_MESSAGE)
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == c.PING:
            await self.send(text_data='{"type":"pong"}')
            return
        events = message.get("events") if kind == c.BATCH else None
        if not isinstance(events, list) or len(events) > c.MAX_BATCH:
            await self.close(code=c.BAD_MESSAGE)
            return
        if not get_limits().events(self.place, len(events)):
            await self._cut()
            return
        if not await self._token_still_valid():
            return
        if self.captured is not None:
            await self._capture_and_ack(data, events)
        else:
            await self._store_and_ack(events)

    async def _cut(self) -> None:
        """Close for going past a limit; the address cools down before it may connect again."""
        get_limits().cool_down(self.place)
        await self.close(code=c.RATE_LIMITED)

    async def _token_still_valid(self) -> bool:
        """Re-check the token every few seconds, so that unlocking, revoking or deleting stops
        open sockets from writing into a retired epoch. One query serves every socket of the
        token; while it runs, frames wait for it only once the token's last pass is more than
        twice the interval old (or it failed)."""
        every = settings.INGEST_RECHECK_SECONDS
        age = services.token_pass_age(self.connection)
        if age < every:
            return True
        check = _recheck(self.connection)
        if age < 2 * every:
            return True
        try:
            await asyncio.shield(check)
        except services.ConnectionRefused as exc:
            log.info("ingest socket closed (%s): %s", exc.code, exc.reason)
            await self.close(code=exc.code)
            return False
        return True

    async def _store_and_ack(self, raw_events: list) -> None:
        now_ms = int(time.time() * 1000)
        stored, rejected = services.build_events(self.connection, raw_events, now_ms=now_ms)
        result = None
        if stored:
            try:
                result = await self._submit(stored)
            except StoreUnavailable:
                log.warning("event store unavailable: closing ingest socket without ack")
                await self.close(code=c.STORE_FAILING)
                return
            except Exception:
                log.exception("storing a batch failed: closing ingest socket without ack")
                await self.close(code=c.STORE_FAILING)
                return
        ack = services.acknowledge(self.connection, stored, rejected, result)
        await self.send(text_data=orjson.dumps(ack).decode())

    async def _captured_at_once(self, frame: str | bytes) -> bool:
        """Capture mode: the ordinary frame, checked by the compiled check (`fastcheck`), with
        the same limits, token check, capture and ack as the full path. False: not decided
        here (anything unusual): take the full path."""
        if self.connection.client.is_bot:
            return False
        now_ms = int(time.time() * 1000)
        ids = fast_ack_ids(frame, now_ms=now_ms, elements=self.connection.elements)
        if ids is None:
            return False
        if not get_limits().events(self.place, len(ids)):
            await self._cut()
        elif await self._token_still_valid():
            await self._capture_then_ack(frame, now_ms, services.ack_of(ids))
        return True

    async def _capture_and_ack(self, frame: str | bytes, raw_events: list) -> None:
        """Capture mode: check the batch, append the frame to the inbox, ack what the processor
        will store."""
        now_ms = int(time.time() * 1000)
        accepted, rejected = services.check_events(self.connection, raw_events, now_ms=now_ms)
        ack = services.ack_of([eid for eid, _ in accepted], rejected)
        await self._capture_then_ack(frame, now_ms, ack)

    async def _capture_then_ack(self, frame: str | bytes, now_ms: int, ack: dict) -> None:
        """Append the frame to the inbox (if it has anything to store), then send its ack."""
        if ack["ids"]:
            inbox = get_inbox()
            try:
                if inbox.full():
                    await self._room_in(inbox)
                await inbox.append(self.captured, now_ms, frame)
            except (InboxFull, OSError) as exc:
                log.warning("ingest inbox failing (%r): closing the socket without ack", exc)
                await self.close(code=c.STORE_FAILING)
                return
        await self.send(text_data=orjson.dumps(ack).decode())

    @staticmethod
    async def _room_in(inbox) -> None:
        """While the processor is too far behind, frames wait (back-pressure) for a while, then
        InboxFull: the socket closes without an ack."""
        deadline = time.monotonic() + settings.INGEST_STORE_RETRY_SECONDS
        while inbox.full():
            if time.monotonic() >= deadline:
                raise InboxFull(f"over {settings.INGEST_BACKLOG_MB} MB not processed")
            await asyncio.sleep(0.1)

    async def _submit(self, stored):
        """Commit through the writer; while the store is down, retry with backoff (holding this
        socket's reads: back-pressure) for a while before giving up."""
        delay, deadline = 0.2, time.monotonic() + settings.INGEST_STORE_RETRY_SECONDS
        while True:
            try:
                return await get_writer().submit(stored)
            except StoreUnavailable:
                if time.monotonic() + delay > deadline:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
