"""The dashboard websocket /ws/live: notifications, presence and realtime figures.

Protocol in `live.constants`. Thin: authenticate in `connect`, then per client message
validate and call one selector or service; per channel-layer message check that the user may
still see what it is about, and forward it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs

import orjson
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from accounts.authentication import user_for_access_token
from accounts.services import NotAuthenticated
from live import constants as c
from live import presence, selectors, services

log = logging.getLogger(__name__)


def credentials(scope) -> tuple[str, str | None]:
    """The access token of the handshake, and the subprotocol to answer with (if any)."""
    subprotocols = list(scope.get("subprotocols") or [])
    if c.AUTH_SUBPROTOCOL in subprotocols:
        offered = [p for p in subprotocols if p != c.AUTH_SUBPROTOCOL]
        return (offered[0] if offered else ""), c.AUTH_SUBPROTOCOL
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [""])[0], None


def app_id_of(message: dict) -> int | None:
    app = message.get("app")
    return app if isinstance(app, int) and not isinstance(app, bool) and app > 0 else None


class LiveConsumer(AsyncWebsocketConsumer):
    user = None
    organization_id: int | None = None

    # -- connection ----------------------------------------------------------------------------

    async def connect(self):
        token, subprotocol = credentials(self.scope)
        await self.accept(subprotocol)
        try:
            user, claims = await database_sync_to_async(user_for_access_token)(token)
        except NotAuthenticated:
            await self.close(code=c.UNAUTHENTICATED)
            return
        self.user, self.token = user, token
        self.subscriptions: dict[int, float] = {}  # app id -> when access was last checked
        await self.channel_layer.group_add(c.user_group(user.pk), self.channel_name)
        self.expiry = asyncio.create_task(self._close_at(claims.expires_at))
        backlog = await database_sync_to_async(selectors.backlog_for)(user)
        await self._send({"type": c.BACKLOG, "notifications": backlog})
        await self._join_organization()
        self.heartbeat = asyncio.create_task(self._heartbeat())

    async def _join_organization(self) -> None:
        scope = await database_sync_to_async(selectors.presence_scope)(self.user.pk)
        self.organization_id, colleagues = scope
        if self.organization_id is None:
            return
        await self.channel_layer.group_add(c.org_group(self.organization_id), self.channel_name)
        online = await presence.online_among(colleagues)
        await self._send({"type": c.PRESENCE, "users": [{"id": u, "online": True} for u in online]})
        await presence.come_online(
            user_id=self.user.pk, organization_id=self.organization_id, connection=self.channel_name
        )

    async def disconnect(self, code):
        if self.user is None:
            return
        for task in (getattr(self, "expiry", None), getattr(self, "heartbeat", None)):
            if task is not None:
                task.cancel()
        groups = [c.user_group(self.user.pk), *map(c.app_group, self.subscriptions)]
        if self.organization_id is not None:
            groups.append(c.org_group(self.organization_id))
        try:
            for group in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
            if self.organization_id is not None:
                await presence.go_offline(
                    user_id=self.user.pk,
                    organization_id=self.organization_id,
                    connection=self.channel_name,
                )
        except Exception:
            log.exception("live: clean-up of a closed socket failed")

    async def _close_at(self, expires_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
        await self.close(code=c.UNAUTHENTICATED)

    async def _heartbeat(self) -> None:
        """Keep presence alive, and close the socket once its session is revoked (logout)."""
        while True:
            await asyncio.sleep(c.PRESENCE_HEARTBEAT)
            try:
                await database_sync_to_async(user_for_access_token)(self.token)
            except NotAuthenticated:
                await self.close(code=c.UNAUTHENTICATED)
                return
            except Exception:
                log.warning("live: could not check a socket's session", exc_info=True)
            if self.organization_id is not None:
                with contextlib.suppress(Exception):
                    await presence.keep_alive(user_id=self.user.pk, connection=self.channel_name)

    async def _send(self, message: dict) -> None:
        await self.send(text_data=orjson.dumps(message).decode())

    async def _error(self, code: str, **extra) -> None:
        await self._send({"type": c.ERROR, "code": code, **extra})

    # -- client messages -----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.user is None:
            return
        data = text_data if text_data is not None else bytes_data
        try:
            if not data or len(data) > c.MAX_FRAME_BYTES:
                raise ValueError("empty or too large")
            message = orjson.loads(data)
        except (ValueError, orjson.JSONDecodeError):
            await self.close(code=c.BAD_MESSAGE)
            return
        kind = message.get("type") if isinstance(message, dict) else None
        handler = self.client_handlers.get(kind)
        if handler is None:
            await self._error(c.BAD_MESSAGE_CODE)
            return
        await handler(self, message)

    async def on_subscribe(self, message: dict) -> None:
        app = app_id_of(message)
        if app is None:
            await self._error(c.BAD_MESSAGE_CODE)
        elif app not in self.subscriptions and len(self.subscriptions) >= c.MAX_SUBSCRIPTIONS:
            await self._error(c.TOO_MANY_SUBSCRIPTIONS, app=app)
        elif not await database_sync_to_async(selectors.may_view_app)(self.user.pk, app):
            await self._error(c.NOT_FOUND, app=app)  # as for apps that do not exist
        else:
            await self.channel_layer.group_add(c.app_group(app), self.channel_name)
            self.subscriptions[app] = time.monotonic()
            await self._send({"type": c.SUBSCRIBED, "app": app})

    async def on_unsubscribe(self, message: dict) -> None:
        app = app_id_of(message)
        if app is None:
            await self._error(c.BAD_MESSAGE_CODE)
            return
        await self._drop(app)
        await self._send({"type": c.UNSUBSCRIBED, "app": app})

    async def on_auth(self, message: dict) -> None:
        token = message.get("token")
        try:
            user, claims = await database_sync_to_async(user_for_access_token)(str(token or ""))
        except NotAuthenticated:
            user = claims = None
        if user is None or user.pk != self.user.pk:
            await self.close(code=c.UNAUTHENTICATED)
            return
        self.token = token
        self.expiry.cancel()
        self.expiry = asyncio.create_task(self._close_at(claims.expires_at))
        await self._send({"type": c.AUTH, "expires_at": claims.expires_at.isoformat()})

    async def on_read(self, message: dict) -> None:
        ids = message.get("ids")
        if not isinstance(ids, list):
            await self._error(c.BAD_MESSAGE_CODE)
            return
        await database_sync_to_async(services.notifications_mark_read)(user=self.user, ids=ids)

    async def on_hide(self, message: dict) -> None:
        ids = message.get("ids")
        if not isinstance(ids, list):
            await self._error(c.BAD_MESSAGE_CODE)
            return
        await database_sync_to_async(services.notifications_hide)(user=self.user, ids=ids)

    async def on_clear(self, message: dict) -> None:
        await database_sync_to_async(services.notifications_hide)(user=self.user)

    async def on_ping(self, message: dict) -> None:
        await self._send({"type": c.PONG})

    client_handlers = {
        c.SUBSCRIBE: on_subscribe,
        c.UNSUBSCRIBE: on_unsubscribe,
        c.AUTH: on_auth,
        c.READ: on_read,
        c.HIDE: on_hide,
        c.CLEAR: on_clear,
        c.PING: on_ping,
    }

    # -- channel-layer messages ----------------------------------------------------------------

    async def live_notification(self, message: dict) -> None:
        await self._send({"type": c.NOTIFICATION, "notification": message["notification"]})

    async def live_updated(self, message: dict) -> None:
        await self._send({"type": c.UPDATED, "ids": message["ids"], "state": message["state"]})

    async def live_presence(self, message: dict) -> None:
        if message["user"] != self.user.pk:
            user = {"id": message["user"], "online": message["online"]}
            await self._send({"type": c.PRESENCE, "users": [user]})

    async def live_realtime(self, message: dict) -> None:
        if await self._may_still_view(message["app"]):
            fields = ("app", "visitors", "events_per_second", "latest")
            await self._send({"type": c.REALTIME, **{key: message[key] for key in fields}})

    async def live_sync(self, message: dict) -> None:
        if await self._may_still_view(message["app"]):
            app, version = message["app"], message["config_version"]
            await self._send({"type": c.SYNC, "app": app, "config_version": version})

    async def live_access(self, message: dict) -> None:
        """Access to an app may be gone: check now, drop the subscription if it is."""
        app = message["app"]
        if app in self.subscriptions:
            self.subscriptions[app] = -math.inf
            await self._may_still_view(app)

    # -- subscriptions -------------------------------------------------------------------------

    async def _may_still_view(self, app: int) -> bool:
        """Whether to forward something about a subscribed app. Access is re-read from the
        database at least every ACCESS_RECHECK_SECONDS (and at once after `live.access`)."""
        checked = self.subscriptions.get(app)
        if checked is None:
            return False
        if time.monotonic() - checked < c.ACCESS_RECHECK_SECONDS:
            return True
        if await database_sync_to_async(selectors.may_view_app)(self.user.pk, app):
            self.subscriptions[app] = time.monotonic()
            return True
        await self._drop(app)
        await self._send({"type": c.UNSUBSCRIBED, "app": app, "reason": c.ACCESS_LOST})
        return False

    async def _drop(self, app: int) -> None:
        if self.subscriptions.pop(app, None) is not None:
            await self.channel_layer.group_discard(c.app_group(app), self.channel_name)
