"""The dashboard websocket /ws/live: authentication, the backlog, every notification kind,
presence, realtime subscriptions and access revocation, on the in-memory and the Redis layer."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import orjson
import pytest
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from accounts import tokens
from accounts.models import AuthSession
from apps_registry import services as app_services
from apps_registry.models import Invite
from datalab.routing import websocket_urlpatterns
from funnels import services as funnel_services
from live import constants as c
from live import realtime
from live.models import Notification
from live.state import reset_state
from outbox import kinds
from tests import services
from tests.conftest import APP_ORIGIN, PASSWORD, TRACKED_CONFIG
from tokens import services as token_services

pytestmark = [pytest.mark.django_db(transaction=True)]

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
WAIT = 3.0  # seconds to wait for a message that must come
QUIET = 0.4  # seconds of silence that show a message does not come


# --- the channel layer: in memory, and Redis --------------------------------------------------


@pytest.fixture(autouse=True, params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def layer(request, settings):
    """Every test runs on both layers; the Redis one with its own key prefixes."""
    prefix = f"test{uuid.uuid4().hex[:12]}"
    state = None
    if request.param == "redis":
        from live.state.redis import RedisState

        url = services.redis_url()
        settings.REDIS_URL = url
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": prefix},
            }
        }
        state = RedisState(url, prefix=prefix)
    else:
        settings.REDIS_URL = ""
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    reset_state(state)
    realtime.reset()
    yield request.param
    realtime.reset()
    if state is not None:
        await _forget_redis_keys(state)
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        await layer.flush()
        await layer.close_pools()
    reset_state()


async def _forget_redis_keys(state) -> None:
    client = state._client()[0]
    async for key in client.scan_iter(match=f"{state.prefix}:*"):
        await client.delete(key)
    await state.close()


# --- helpers ------------------------------------------------------------------------------------


def access_token(user) -> str:
    return account_services.auth_login(email=user.email, password=PASSWORD).access


def short_token(user, seconds: int) -> str:
    session = AuthSession.objects.create(user=user)
    return tokens.encode(
        kind=tokens.ACCESS,
        user_id=user.pk,
        session_id=session.id,
        jti=uuid.uuid4(),
        now=timezone.now(),
        ttl=timedelta(seconds=seconds),
    )


def db(function, /, **kwargs):
    return database_sync_to_async(function)(**kwargs)


class Socket:
    """A connected /ws/live client that keeps what it received, by type."""

    def __init__(self, comm: WebsocketCommunicator) -> None:
        self.comm = comm
        self.backlog: list[dict] = []
        self.presence: list[dict] = []  # the snapshot of colleagues online at connect

    async def send(self, **message) -> None:
        await self.comm.send_to(text_data=orjson.dumps(message).decode())

    async def next(self, kind: str, timeout: float = WAIT) -> dict:
        """The next message of `kind`; messages of other kinds on the way are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} message within {timeout}s")
            try:
                message = await self.comm.receive_json_from(timeout=left)
            except TimeoutError:
                raise AssertionError(f"no {kind!r} message within {timeout}s") from None
            if message["type"] == kind:
                return message

    async def none_of(self, kind: str, timeout: float = QUIET) -> None:
        """Assert no message of `kind` comes within `timeout` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            # receive_nothing, unlike a receive that times out, leaves the application running
            if await self.comm.receive_nothing(timeout=left, interval=0.01):
                return
            message = await self.comm.receive_json_from()
            assert message["type"] != kind, message

    async def close(self) -> None:
        await self.comm.disconnect()


def communicator(*, token: str | None = None, subprotocols=None) -> WebsocketCommunicator:
    path = "/ws/live" + (f"?token={token}" if token is not None else "")
    return WebsocketCommunicator(URLRouter(websocket_urlpatterns), path, subprotocols=subprotocols)


async def connect(user, *, token: str | None = None) -> Socket:
    token = token or await db(access_token, user=user)
    socket = Socket(communicator(token=token))
    connected, _ = await socket.comm.connect()
    assert connected
    socket.backlog = (await socket.next(c.BACKLOG))["notifications"]
    verified = await db(lambda: user.membership.is_verified)
    if verified:
        socket.presence = (await socket.next(c.PRESENCE))["users"]
    return socket


async def close_code(comm: WebsocketCommunicator, timeout: float = WAIT) -> int:
    while True:
        message = await comm.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message["code"]


async def refused(comm: WebsocketCommunicator) -> int:
    await comm.connect()
    code = await close_code(comm)
    await comm.disconnect()
    return code


def add_member(app, owner, user) -> Invite:
    invite = app_services.invite_create(app=app, actor=owner, user_id=user.pk)
    return app_services.invite_accept(invite=invite, user=user)


def make_app(owner, *, public: bool = False, name: str = "Blog"):
    return app_services.app_create(
        owner=owner, name=name, url="https://blog.acme.test", tags=["web"], is_public=public
    )


# --- ingest, for realtime -----------------------------------------------------------------------


def pageview(path: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "pageview",
        "ts": int(time.time() * 1000),
        "url": f"{APP_ORIGIN}{path}",
        "referrer": "",
        "title": "Shop",
    }


class Visitor:
    """An ingest socket of the tracked app (one visitor)."""

    def __init__(self, token: str, ip: str = "203.0.113.9") -> None:
        headers = [(b"user-agent", CHROME.encode()), (b"origin", APP_ORIGIN.encode())]
        self.comm = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/ingest?token={token}", headers=headers
        )
        self.comm.scope["client"] = (ip, 40000)

    async def __aenter__(self) -> Visitor:
        connected, _ = await self.comm.connect()
        assert connected
        assert (await self.comm.receive_json_from())["type"] == "hello"
        return self

    async def __aexit__(self, *exc) -> None:
        await self.comm.disconnect()

    async def visit(self, *paths: str) -> None:
        batch = {"type": "batch", "events": [pageview(p) for p in paths]}
        await self.comm.send_to(text_data=orjson.dumps(batch).decode())
        ack = await self.comm.receive_json_from(timeout=5)
        assert len(ack["ids"]) == len(paths), ack


# --- authentication -----------------------------------------------------------------------------


async def test_socket_without_a_valid_token_is_closed_with_4401(owner):
    assert await refused(communicator()) == c.UNAUTHENTICATED
    assert await refused(communicator(token="not-a-token")) == c.UNAUTHENTICATED
    token = await db(access_token, user=owner)
    assert await refused(communicator(token=token[:-4] + "AAAA")) == c.UNAUTHENTICATED


async def test_token_of_a_logged_out_session_is_refused(owner):
    pair = await db(account_services.auth_login, email=owner.email, password=PASSWORD)
    await db(AuthSession.objects.filter(user=owner).update, revoked_at=timezone.now())

    assert await refused(communicator(token=pair.access)) == c.UNAUTHENTICATED


async def test_token_in_the_websocket_protocol_header_is_accepted(owner):
    token = await db(access_token, user=owner)
    comm = communicator(subprotocols=[c.AUTH_SUBPROTOCOL, token])

    connected, subprotocol = await comm.connect()

    assert connected
    assert subprotocol == c.AUTH_SUBPROTOCOL
    assert (await comm.receive_json_from())["type"] == c.BACKLOG
    await comm.disconnect()


async def test_socket_is_closed_when_its_token_expires(owner):
    token = await db(short_token, user=owner, seconds=1)
    comm = communicator(token=token)
    assert (await comm.connect())[0]

    assert await close_code(comm, timeout=4) == c.UNAUTHENTICATED
    await comm.disconnect()


async def test_fresh_token_sent_in_a_message_keeps_the_socket_open(owner):
    socket = await connect(owner, token=await db(short_token, user=owner, seconds=1))
    fresh = await db(access_token, user=owner)

    await socket.send(type=c.AUTH, token=fresh)
    answer = await socket.next(c.AUTH)
    await asyncio.sleep(2.2)
    await socket.send(type=c.PING)

    assert answer["expires_at"] > timezone.now().isoformat()
    assert await socket.next(c.PONG)
    await socket.close()


async def test_socket_is_closed_soon_after_its_session_is_logged_out(owner, monkeypatch):
    monkeypatch.setattr(c, "PRESENCE_HEARTBEAT", 0.2)
    pair = await db(account_services.auth_login, email=owner.email, password=PASSWORD)
    socket = await connect(owner, token=pair.access)

    await db(account_services.auth_logout, session_id=pair.session_id)

    assert await close_code(socket.comm) == c.UNAUTHENTICATED
    await socket.close()


async def test_token_of_someone_else_in_an_auth_message_closes_the_socket(owner, colleague):
    socket = await connect(owner)

    await socket.send(type=c.AUTH, token=await db(access_token, user=colleague))

    assert await close_code(socket.comm) == c.UNAUTHENTICATED
    await socket.close()


async def test_malformed_frames_close_the_socket_and_unknown_types_get_an_error(owner):
    socket = await connect(owner)
    await socket.send(type="dance")
    assert (await socket.next(c.ERROR))["code"] == c.BAD_MESSAGE_CODE

    await socket.comm.send_to(text_data="{not json")

    assert await close_code(socket.comm) == c.BAD_MESSAGE
    await socket.close()


# --- the backlog, read, hide, clear -------------------------------------------------------------


async def test_offline_user_finds_notifications_in_the_backlog(owner, member):
    app = await db(make_app, owner=owner)
    invite = await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)

    socket = await connect(member)

    [notification] = socket.backlog
    assert notification["kind"] == kinds.INVITE_SENT
    assert notification["app"] == app.pk
    assert notification["app_name"] == "Blog"
    assert notification["data"]["invite"] == invite.pk
    assert notification["data"]["actor"] == {"id": owner.pk, "name": "Olga"}
    assert notification["read_at"] is None
    await socket.close()


async def test_read_hidden_and_cleared_notifications_leave_the_backlog(owner, member):
    apps = [await db(make_app, owner=owner, name=f"App {i}") for i in range(3)]
    for app in apps:
        await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    socket = await connect(member)
    first, second, third = (n["id"] for n in socket.backlog)

    await socket.send(type=c.READ, ids=[first])
    assert await socket.next(c.UPDATED) == {"type": "updated", "ids": [first], "state": "read"}
    await socket.send(type=c.HIDE, ids=[second])
    assert await socket.next(c.UPDATED) == {"type": "updated", "ids": [second], "state": "hidden"}
    await socket.close()

    again = await connect(member)
    assert [n["id"] for n in again.backlog] == [third]
    await again.send(type=c.CLEAR)
    assert set((await again.next(c.UPDATED))["ids"]) == {first, third}
    await again.close()

    assert (await connect(member)).backlog == []
    assert await db(Notification.objects.filter(user=member, hidden_at=None).count) == 0


async def test_marking_read_reaches_every_tab_of_the_user(owner, member):
    app = await db(make_app, owner=owner)
    await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    tab1, tab2 = await connect(member), await connect(member)

    await tab1.send(type=c.READ, ids=[tab1.backlog[0]["id"]])

    assert (await tab2.next(c.UPDATED))["state"] == "read"
    await tab1.close()
    await tab2.close()


async def test_nobody_can_mark_someone_elses_notifications(owner, member, colleague):
    app = await db(make_app, owner=owner)
    await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    notification = await db(Notification.objects.get, user=member)
    socket = await connect(colleague)

    await socket.send(type=c.HIDE, ids=[notification.pk])
    await socket.send(type=c.READ, ids=[notification.pk])

    await socket.none_of(c.UPDATED)
    await db(notification.refresh_from_db)
    assert notification.hidden_at is None and notification.read_at is None
    await socket.close()


# --- each notification kind ---------------------------------------------------------------------


async def test_invite_received_reaches_the_invitee_only(owner, member, colleague, stranger):
    app = await db(make_app, owner=owner)
    sockets = {u.email: await connect(u) for u in (owner, member, colleague, stranger)}

    await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)

    pushed = (await sockets[member.email].next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kinds.INVITE_SENT and pushed["app_name"] == "Blog"
    for user in (owner, colleague, stranger):
        await sockets[user.email].none_of(c.NOTIFICATION)
    for socket in sockets.values():
        await socket.close()


async def test_invite_reminder_reaches_the_invitee(owner, member):
    app = await db(make_app, owner=owner)
    invite = await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    await db(
        Invite.objects.filter(pk=invite.pk).update, created_at=timezone.now() - timedelta(days=2)
    )
    invite = await db(Invite.objects.select_related("app").get, pk=invite.pk)
    socket = await connect(member)

    await db(app_services.invite_remind, invite=invite, actor=owner)

    pushed = (await socket.next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kinds.INVITE_REMINDED
    assert pushed["data"]["invite"] == invite.pk
    await socket.close()


@pytest.mark.parametrize(
    ("respond", "kind"),
    [
        (app_services.invite_accept, kinds.INVITE_ACCEPTED),
        (app_services.invite_reject, kinds.INVITE_REJECTED),
    ],
)
async def test_invitees_answer_reaches_the_owner(owner, member, respond, kind):
    app = await db(make_app, owner=owner)
    invite = await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    owner_socket, member_socket = await connect(owner), await connect(member)

    await db(respond, invite=invite, user=member)

    pushed = (await owner_socket.next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kind
    assert pushed["data"]["actor"]["id"] == member.pk
    await member_socket.none_of(c.NOTIFICATION)
    await owner_socket.close()
    await member_socket.close()


async def test_removed_member_is_told(owner, member):
    app = await db(make_app, owner=owner)
    await db(add_member, app=app, owner=owner, user=member)
    socket = await connect(member)

    await db(app_services.member_remove, app=app, actor=owner, user_id=member.pk)

    assert (await socket.next(c.NOTIFICATION))["notification"]["kind"] == kinds.MEMBER_REMOVED
    await socket.close()


async def test_locking_a_private_app_reaches_its_members_only(
    owner, member, colleague, stranger, event_store
):
    app = await db(make_app, owner=owner)
    await db(add_member, app=app, owner=owner, user=member)
    sockets = {u.email: await connect(u) for u in (owner, member, colleague, stranger)}

    await db(token_services.token_issue, app=app, actor=owner)

    pushed = (await sockets[member.email].next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kinds.APP_LOCKED and pushed["app"] == app.pk
    for user in (owner, colleague, stranger):
        await sockets[user.email].none_of(c.NOTIFICATION)
    for socket in sockets.values():
        await socket.close()


async def test_locking_a_public_app_reaches_verified_colleagues(
    owner, colleague, unverified_colleague, stranger, event_store
):
    app = await db(make_app, owner=owner, public=True)
    colleague_socket = await connect(colleague)
    others = [await connect(unverified_colleague), await connect(stranger)]

    await db(token_services.token_issue, app=app, actor=owner)

    assert (await colleague_socket.next(c.NOTIFICATION))["notification"]["kind"] == "app.locked"
    for socket in others:
        await socket.none_of(c.NOTIFICATION)
        await socket.close()
    await colleague_socket.close()


async def test_unlocking_reaches_the_members(owner, member, tracked_app):
    await db(add_member, app=tracked_app, owner=owner, user=member)
    socket = await connect(member)

    await db(app_services.app_unlock, app=tracked_app, actor=owner)

    pushed = (await socket.next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kinds.APP_UNLOCKED
    assert pushed["data"]["epoch"] == 2
    await socket.close()


async def test_deleting_an_app_reaches_its_members(owner, member, colleague):
    app = await db(make_app, owner=owner)
    await db(add_member, app=app, owner=owner, user=member)
    member_socket, colleague_socket = await connect(member), await connect(colleague)
    app_id = app.pk

    await db(app_services.app_delete, app=app, actor=owner)

    pushed = (await member_socket.next(c.NOTIFICATION))["notification"]
    assert (pushed["kind"], pushed["app"], pushed["app_name"]) == ("app.deleted", app_id, "Blog")
    await colleague_socket.none_of(c.NOTIFICATION)
    await member_socket.close()
    await colleague_socket.close()


async def test_transfer_reaches_the_new_owner_and_the_other_members(owner, member, colleague):
    app = await db(make_app, owner=owner)
    await db(add_member, app=app, owner=owner, user=member)
    await db(add_member, app=app, owner=owner, user=colleague)
    member_socket, colleague_socket = await connect(member), await connect(colleague)

    await db(app_services.app_transfer, app=app, actor=owner, new_owner_id=member.pk)

    for socket in (member_socket, colleague_socket):
        pushed = (await socket.next(c.NOTIFICATION))["notification"]
        assert pushed["kind"] == kinds.APP_TRANSFERRED
        assert pushed["data"]["new_owner"] == member.pk
        await socket.close()


async def test_configuration_change_notifies_viewers_and_syncs_open_dashboards(owner, member):
    app = await db(make_app, owner=owner)
    await db(add_member, app=app, owner=owner, user=member)
    owner_socket, member_socket = await connect(owner), await connect(member)
    await owner_socket.send(type=c.SUBSCRIBE, app=app.pk)
    await owner_socket.next(c.SUBSCRIBED)

    await db(funnel_services.config_update, app=app, actor=member, data=TRACKED_CONFIG, version=1)

    pushed = (await owner_socket.next(c.NOTIFICATION))["notification"]
    assert pushed["kind"] == kinds.CONFIG_CHANGED
    assert pushed["data"]["actor"]["id"] == member.pk
    assert await owner_socket.next(c.SYNC) == {"type": "sync", "app": app.pk, "config_version": 2}
    await member_socket.none_of(c.NOTIFICATION)  # the editor is not told of their own edit
    await owner_socket.close()
    await member_socket.close()


async def test_revoked_invitation_leaves_the_invitees_notifications(owner, member):
    app = await db(make_app, owner=owner)
    invite = await db(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    socket = await connect(member)

    await db(app_services.invite_revoke, invite=invite, actor=owner)

    update = await socket.next(c.UPDATED)
    assert update == {"type": "updated", "ids": [socket.backlog[0]["id"]], "state": "hidden"}
    await socket.close()
    assert (await connect(member)).backlog == []


# --- presence -----------------------------------------------------------------------------------


async def test_colleagues_see_each_other_come_online_and_go_offline(owner, colleague, stranger):
    owner_socket, stranger_socket = await connect(owner), await connect(stranger)

    colleague_socket = await connect(colleague)
    assert await owner_socket.next(c.PRESENCE) == {
        "type": "presence",
        "users": [{"id": colleague.pk, "online": True}],
    }
    assert colleague_socket.presence == [{"id": owner.pk, "online": True}]
    await stranger_socket.none_of(c.PRESENCE)

    await colleague_socket.close()
    assert (await owner_socket.next(c.PRESENCE))["users"] == [{"id": colleague.pk, "online": False}]
    await stranger_socket.none_of(c.PRESENCE)
    await owner_socket.close()
    await stranger_socket.close()


async def test_a_second_tab_does_not_change_presence(owner, colleague):
    owner_socket = await connect(owner)
    tab1 = await connect(colleague)
    assert (await owner_socket.next(c.PRESENCE))["users"][0]["online"] is True

    tab2 = await connect(colleague)
    await owner_socket.none_of(c.PRESENCE)
    await tab1.close()
    await owner_socket.none_of(c.PRESENCE)

    await tab2.close()
    assert (await owner_socket.next(c.PRESENCE))["users"] == [{"id": colleague.pk, "online": False}]
    await owner_socket.close()


async def test_unverified_users_get_no_presence(owner, unverified_colleague):
    owner_socket = await connect(owner)
    socket = await connect(unverified_colleague)

    await owner_socket.none_of(c.PRESENCE)
    await socket.none_of(c.PRESENCE)
    await socket.close()
    await owner_socket.close()


# --- realtime -----------------------------------------------------------------------------------


async def test_subscriber_gets_visitors_rate_and_latest_events(owner, tracked_app):
    socket = await connect(owner)
    await socket.send(type=c.SUBSCRIBE, app=tracked_app.pk)
    assert await socket.next(c.SUBSCRIBED) == {"type": "subscribed", "app": tracked_app.pk}

    async with Visitor(tracked_app.token) as visitor:
        await visitor.visit("/", "/products/7")
        pushed = await socket.next(c.REALTIME)

    assert pushed["app"] == tracked_app.pk
    assert pushed["visitors"] == 1
    assert pushed["events_per_second"] == 0.4  # 2 events over the last 5 seconds
    assert [(e["path"], e["type"], e["stages"]) for e in pushed["latest"]] == [
        ("/products/7", "pageview", ["Product"]),
        ("/", "pageview", ["Landing"]),
    ]
    await socket.close()


async def test_pushes_come_at_most_once_a_second_per_app(owner, tracked_app):
    socket = await connect(owner)
    await socket.send(type=c.SUBSCRIBE, app=tracked_app.pk)
    await socket.next(c.SUBSCRIBED)

    async with (
        Visitor(tracked_app.token) as ann,
        Visitor(tracked_app.token, ip="198.51.100.4") as bob,
    ):
        await ann.visit("/a")
        first = await socket.next(c.REALTIME)
        started = time.monotonic()
        await bob.visit("/b")
        await ann.visit("/c")
        second = await socket.next(c.REALTIME)
        gap = time.monotonic() - started
        await socket.none_of(c.REALTIME, timeout=1.3)

    assert [e["path"] for e in first["latest"]] == ["/a"]
    assert [e["path"] for e in second["latest"]] == ["/c", "/b", "/a"]
    assert second["visitors"] == 2
    assert 0.8 < gap < 1.2
    await socket.close()


def beacon(token: str, path: str) -> int:
    """The HTTP fallback (sendBeacon) of the snippet."""
    body = orjson.dumps({"type": "batch", "token": token, "events": [pageview(path)]})
    headers = {"HTTP_ORIGIN": APP_ORIGIN, "HTTP_USER_AGENT": CHROME}
    return Client().post("/api/v1/ingest", body, content_type="text/plain", **headers).status_code


async def test_events_of_the_http_fallback_are_pushed_too(owner, tracked_app):
    socket = await connect(owner)
    await socket.send(type=c.SUBSCRIBE, app=tracked_app.pk)
    await socket.next(c.SUBSCRIBED)

    assert await db(beacon, token=tracked_app.token, path="/products/9") == 200

    pushed = await socket.next(c.REALTIME)
    assert [(e["path"], e["stages"]) for e in pushed["latest"]] == [("/products/9", ["Product"])]
    await socket.close()


async def test_unsubscribed_socket_gets_no_more_pushes(owner, tracked_app):
    socket = await connect(owner)
    await socket.send(type=c.SUBSCRIBE, app=tracked_app.pk)
    await socket.next(c.SUBSCRIBED)

    await socket.send(type=c.UNSUBSCRIBE, app=tracked_app.pk)
    assert await socket.next(c.UNSUBSCRIBED) == {"type": "unsubscribed", "app": tracked_app.pk}
    async with Visitor(tracked_app.token) as visitor:
        await visitor.visit("/")
        await socket.none_of(c.REALTIME, timeout=0.5)
    await socket.close()


async def test_apps_one_may_not_view_cannot_be_subscribed(owner, colleague, stranger, tracked_app):
    for user in (colleague, stranger):
        socket = await connect(user)
        await socket.send(type=c.SUBSCRIBE, app=tracked_app.pk)
        await socket.send(type=c.SUBSCRIBE, app=999_999)
        errors = [await socket.next(c.ERROR), await socket.next(c.ERROR)]
        assert errors == [
            {"type": "error", "code": "not_found", "app": tracked_app.pk},
            {"type": "error", "code": "not_found", "app": 999_999},
        ]
        async with Visitor(tracked_app.token) as visitor:
            await visitor.visit("/")
            await socket.none_of(c.REALTIME, timeout=0.5)
        await socket.close()


async def test_subscriptions_per_socket_are_limited(owner, monkeypatch):
    monkeypatch.setattr(c, "MAX_SUBSCRIPTIONS", 1)
    first, second = await db(make_app, owner=owner), await db(make_app, owner=owner, name="B")
    socket = await connect(owner)

    await socket.send(type=c.SUBSCRIBE, app=first.pk)
    await socket.next(c.SUBSCRIBED)
    await socket.send(type=c.SUBSCRIBE, app=second.pk)

    assert (await socket.next(c.ERROR))["code"] == c.TOO_MANY_SUBSCRIPTIONS
    await socket.close()


# --- losing access stops the pushes at once -----------------------------------------------------


async def subscribed(user, app) -> Socket:
    socket = await connect(user)
    await socket.send(type=c.SUBSCRIBE, app=app.pk)
    await socket.next(c.SUBSCRIBED)
    return socket


async def test_removed_member_loses_the_realtime_subscription_at_once(owner, member, tracked_app):
    await db(add_member, app=tracked_app, owner=owner, user=member)
    member_socket, owner_socket = (
        await subscribed(member, tracked_app),
        await subscribed(owner, tracked_app),
    )

    await db(app_services.member_remove, app=tracked_app, actor=owner, user_id=member.pk)

    assert await member_socket.next(c.UNSUBSCRIBED) == {
        "type": "unsubscribed",
        "app": tracked_app.pk,
        "reason": "access_lost",
    }
    async with Visitor(tracked_app.token) as visitor:
        await visitor.visit("/")
        assert await owner_socket.next(c.REALTIME)
        await member_socket.none_of(c.REALTIME, timeout=0.5)
    await member_socket.close()
    await owner_socket.close()


async def test_app_made_private_drops_colleagues_subscriptions(owner, colleague, tracked_app):
    await db(app_services.app_update, app=tracked_app, actor=owner, is_public=True)
    socket = await subscribed(colleague, tracked_app)

    await db(app_services.app_update, app=tracked_app, actor=owner, is_public=False)

    assert (await socket.next(c.UNSUBSCRIBED))["reason"] == c.ACCESS_LOST
    async with Visitor(tracked_app.token) as visitor:
        await visitor.visit("/")
        await socket.none_of(c.REALTIME, timeout=0.5)
    await socket.close()


async def test_deleted_app_drops_every_subscription(owner, member, tracked_app):
    await db(add_member, app=tracked_app, owner=owner, user=member)
    sockets = [await subscribed(member, tracked_app), await subscribed(owner, tracked_app)]

    await db(app_services.app_delete, app=tracked_app, actor=owner)

    for socket in sockets:
        assert (await socket.next(c.UNSUBSCRIBED))["reason"] == c.ACCESS_LOST
        await socket.close()


async def test_access_lost_without_an_event_is_noticed_before_the_next_push(
    owner, member, tracked_app, monkeypatch
):
    monkeypatch.setattr(c, "ACCESS_RECHECK_SECONDS", 0.0)
    await db(add_member, app=tracked_app, owner=owner, user=member)
    socket = await subscribed(member, tracked_app)
    await db(Invite.objects.filter(invitee=member).update, status=Invite.Status.REMOVED)

    async with Visitor(tracked_app.token) as visitor:
        await visitor.visit("/")
        assert (await socket.next(c.UNSUBSCRIBED))["reason"] == c.ACCESS_LOST
        await socket.none_of(c.REALTIME, timeout=0.5)
    await socket.close()
