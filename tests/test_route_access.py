"""Every route, walked from the URL configuration, for every kind of outsider: nothing of an app
or a person leaks to someone who may not see it. A new route without a case here fails.

Outsiders: anonymous (401), a user of another organization, an unverified colleague, a removed
member and a colleague on a private app (404 for objects they may not see, empty lists).
Members may use the app but not its owner-only actions (403).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps_registry import services as app_services
from live.models import Notification
from tokens import services as token_services

pytestmark = pytest.mark.django_db

OUTSIDERS = ["stranger", "unverified", "removed", "colleague"]
METHODS = ("get", "post", "put", "patch", "delete")

# What each kind of route is, written once:
# - "app": an object of an app (its id in the path): outsiders 404, anonymous 401; with
#   `owner_only`, members 403.
# - "person": an object of one person (an invitation to the owner's colleague, the owner's
#   notification): anyone else 404, anonymous 401.
# - "mine": a list or page of the user's own things: anonymous 401, outsiders see none of the
#   owner's app or invitations.
# - "public": open to anyone by design (the reason says why).
APP, PERSON, MINE, PUBLIC = "app", "person", "mine", "public"


@dataclass(frozen=True)
class Case:
    kind: str
    owner_only: frozenset = frozenset()
    why: str = ""


def app(*owner_only: str) -> Case:
    return Case(APP, frozenset(owner_only))


def public(why: str) -> Case:
    return Case(PUBLIC, why=why)


INSIGHTS = ["overview", "pages", "technology", "sources", "funnel", "funnel/dropoffs", "journeys"]
INSIGHTS += ["elements", "live"]

ROUTES: dict[str, Case] = {
    "api/v1/auth/register": public("anyone may sign up"),
    "api/v1/auth/verify": public("the signed link is the credential"),
    "api/v1/auth/verify/resend": public("answers the same whether the address exists"),
    "api/v1/auth/login": public("the credentials are the request"),
    "api/v1/auth/refresh": public("the refresh token is the credential"),
    "api/v1/auth/logout": public("the refresh token is the credential"),
    "api/v1/me": Case(MINE),
    "api/v1/org": Case(MINE),
    "api/v1/org/colleagues": Case(MINE),
    "api/v1/apps": Case(MINE),
    "api/v1/apps/summary": Case(MINE),
    "api/v1/apps/<id:app_id>": app("PATCH", "DELETE"),
    "api/v1/apps/<id:app_id>/unlock": app("POST"),
    "api/v1/apps/<id:app_id>/transfer": app("POST"),
    "api/v1/apps/<id:app_id>/archives": app(),
    "api/v1/apps/<id:app_id>/members": app(),
    # DELETE of the member's own id is leaving; removing others: test_apps.py
    "api/v1/apps/<id:app_id>/members/<id:user_id>": app(),
    "api/v1/apps/<id:app_id>/invites": app("POST"),
    "api/v1/apps/<id:app_id>/invites/<id:invite_id>": app("DELETE"),
    "api/v1/apps/<id:app_id>/invites/<id:invite_id>/remind": app("POST"),
    "api/v1/invites": Case(MINE),
    "api/v1/invites/<id:invite_id>/accept": Case(PERSON),
    "api/v1/invites/<id:invite_id>/reject": Case(PERSON),
    "api/v1/apps/<id:app_id>/config": app(),
    "api/v1/apps/<id:app_id>/token": app("POST", "DELETE"),
    "api/v1/apps/<id:app_id>/token/rotate": app("POST"),
    "api/v1/ingest": public("the app token is the credential (tested in test_ingest_http)"),
    "api/v1/notifications": Case(MINE),
    "api/v1/notifications/<id:notification_id>": Case(PERSON),
    "api/v1/notifications/<id:notification_id>/read": Case(PERSON),
    **{f"api/v1/apps/<id:app_id>/insights/{name}": app() for name in INSIGHTS},
    "api/schema/": public("the API's description holds no data"),
    "api/docs/": public("the API's description holds no data"),
    "api/redoc/": public("the API's description holds no data"),
    "healthz": public("for load balancers"),
    "demo/": public("the demo shop: public pages of a public demo"),
    "demo/products": public("the demo shop"),
    "demo/products/<int:number>": public("the demo shop"),
    "demo/cart": public("the demo shop"),
    "demo/signup": public("the demo shop"),
    "demo/<path:path>": public("the demo shop"),
    "^(?!api/|admin/|static/|ws/|healthz$|demo/)": public(
        "the dashboard's page; data comes by API"
    ),
}


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern) != "admin/":  # Django's admin: staff only, tested apart
                yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _methods(callback) -> list[str]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["GET"]
    return [method.upper() for method in METHODS if hasattr(view, method)]


WALKED = {route: _methods(callback) for route, callback in _walk(get_resolver().url_patterns)}


def test_every_route_has_a_case():
    assert sorted(set(WALKED) - set(ROUTES)) == [], "new routes: add their cases to ROUTES"
    assert sorted(set(ROUTES) - set(WALKED)) == [], "cases of routes that are gone"


@dataclass
class World:
    app: object
    users: dict
    invite_id: int
    member_id: int
    notification_id: int


@pytest.fixture
def world(make_user, tracked_app, owner):
    member = make_user("member@acme.test")
    removed = make_user("removed@acme.test")
    invitee = make_user("invitee@acme.test")
    for person in (member, removed):
        invite = app_services.invite_create(app=tracked_app, actor=owner, user_id=person.pk)
        app_services.invite_accept(invite=invite, user=person)
    app_services.member_remove(app=tracked_app, actor=owner, user_id=removed.pk)
    pending = app_services.invite_create(app=tracked_app, actor=owner, user_id=invitee.pk)
    notification = Notification.objects.create(user=owner, kind="app.locked", app_ref=1)
    token_services.current_token(tracked_app)  # the app has a token: GET token answers
    users = {
        "owner": owner,
        "member": member,
        "stranger": make_user("eve@other.test"),
        "unverified": make_user("newbie@acme.test", verified=False),
        "removed": removed,
        "colleague": make_user("colleague@acme.test"),
        "anonymous": None,
    }
    return World(tracked_app, users, pending.pk, member.pk, notification.pk)


def _url(route: str, world: World) -> str:
    filled = (
        route.replace("<id:app_id>", str(world.app.pk))
        .replace("<id:user_id>", str(world.member_id))
        .replace("<id:invite_id>", str(world.invite_id))
        .replace("<id:notification_id>", str(world.notification_id))
    )
    return "/" + filled


def _requests(kind: str):
    return [
        pytest.param(route, method, role, id=f"{method}-{role}-{route}")
        for route, methods in WALKED.items()
        if ROUTES.get(route, Case(PUBLIC)).kind == kind
        for method in methods
        for role in ["anonymous", *OUTSIDERS, *(["member"] if kind == APP else [])]
    ]


def _send(client_for, world: World, role: str, method: str, url: str):
    client = client_for(world.users[role])
    return getattr(client, method.lower())(url, {}, format="json")


@pytest.mark.parametrize(("route", "method", "role"), _requests(APP))
def test_app_routes_answer_outsiders_nothing_and_members_no_owner_actions(
    world, client_for, route, method, role
):
    response = _send(client_for, world, role, method, _url(route, world))

    if role == "anonymous":
        assert response.status_code == 401
    elif role in OUTSIDERS:
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
        assert world.app.name not in response.content.decode()
    elif method in ROUTES[route].owner_only:
        assert response.status_code == 403, response.content
    else:  # a member uses the app: whatever the answer, it is not "you may not see it"
        assert response.status_code not in (401, 403), response.content
        if response.status_code == 404:
            assert response.json()["error"]["code"] != "not_found"


@pytest.mark.parametrize(("route", "method", "role"), _requests(PERSON))
def test_a_persons_objects_answer_everyone_else_404(world, client_for, route, method, role):
    response = _send(client_for, world, role, method, _url(route, world))

    assert response.status_code == (401 if role == "anonymous" else 404), response.content


@pytest.mark.parametrize(("route", "method", "role"), _requests(MINE))
def test_own_lists_show_outsiders_nothing_of_the_app(world, client_for, route, method, role):
    response = _send(client_for, world, role, method, _url(route, world))

    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code < 500, response.content
    body = response.content.decode()
    assert world.app.name not in body and world.app.url not in body


# -- the websockets ----------------------------------------------------------------------------

SOCKETS = {
    "ws/ingest": "the app token is the credential: a user's token is not one",
    "ws/live": "a user's access token; apps are subscribed one by one, each checked",
}


def test_every_websocket_route_has_a_case():
    from datalab.routing import websocket_urlpatterns

    assert sorted(str(route.pattern) for route in websocket_urlpatterns) == sorted(SOCKETS)


def _socket(path: str):
    from channels.routing import URLRouter
    from channels.testing import WebsocketCommunicator

    from datalab.routing import websocket_urlpatterns

    return WebsocketCommunicator(
        URLRouter(websocket_urlpatterns), path, headers=[(b"origin", b"https://shop.acme.test")]
    )


async def _first_answer(comm, timeout: float = 3.0) -> dict:
    """The close code, or the first message that is not the connection's greeting."""
    while True:
        message = await comm.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return {"closed": message["code"]}
        if message["type"] == "websocket.send":
            data = orjson.loads(message["text"])
            if data["type"] in ("error", "subscribed"):
                return data


def _access(user) -> str:
    from accounts import services as account_services
    from tests.conftest import PASSWORD

    return account_services.auth_login(email=user.email, password=PASSWORD).access


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ["anonymous", *OUTSIDERS, "member"])
async def test_the_live_socket_gives_outsiders_nothing_of_the_app(world, role):
    from channels.db import database_sync_to_async

    user = world.users[role]
    token = await database_sync_to_async(_access)(user) if user else ""
    comm = _socket(f"/ws/live?token={token}")
    await comm.connect()
    await comm.send_to(text_data=orjson.dumps({"type": "subscribe", "app": world.app.pk}).decode())
    answer = await _first_answer(comm)
    await comm.disconnect()

    if role == "anonymous":
        assert answer == {"closed": 4401}
    elif role == "member":
        assert answer == {"type": "subscribed", "app": world.app.pk}
    else:
        assert answer == {"type": "error", "code": "not_found", "app": world.app.pk}


@pytest.mark.django_db(transaction=True)
async def test_the_ingest_socket_takes_no_users_token(world):
    from channels.db import database_sync_to_async

    owners = await database_sync_to_async(_access)(world.users["owner"])
    for token in ("", owners):
        comm = _socket(f"/ws/ingest?token={token}")
        await comm.connect()
        assert await _first_answer(comm) == {"closed": 4401}
        await comm.disconnect()


def test_an_id_past_what_the_database_holds_is_a_json_404_not_a_server_error(world, client_for):
    owner = client_for(world.users["owner"])
    too_big = 2**63

    requests = [
        (owner.get, f"/api/v1/apps/{too_big}"),
        (owner.delete, f"/api/v1/apps/{world.app.pk}/members/{too_big}"),
        (owner.post, f"/api/v1/invites/{too_big}/accept"),
        (owner.delete, f"/api/v1/notifications/{too_big}"),
    ]
    for send, path in requests:
        response = send(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found", path
