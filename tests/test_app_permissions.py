"""The permission matrix: every app action, for every kind of user, private and public,
locked and unlocked. Allowed 2xx, forbidden 403, invisible 404, anonymous 401."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apps_registry import services
from apps_registry.models import App, Invite

pytestmark = pytest.mark.django_db

ROLES = ["owner", "member", "invitee", "colleague", "stranger", "unverified", "anonymous"]


@dataclass
class World:
    app: App
    users: dict
    invite: Invite | None
    target_email: str
    member_id: int


@pytest.fixture
def world_for(make_user):
    def build(*, public: bool, locked: bool) -> World:
        owner = make_user("owner@acme.test")
        member = make_user("member@acme.test")
        invitee = make_user("invitee@acme.test")
        users = {
            "owner": owner,
            "member": member,
            "invitee": invitee,
            "colleague": make_user("colleague@acme.test"),
            "stranger": make_user("eve@other.test"),
            "unverified": make_user("newbie@acme.test", verified=False),
            "anonymous": None,
        }
        make_user("target@acme.test")
        app = services.app_create(
            owner=owner, name="Shop", url="https://shop.acme.test", tags=["web"]
        )
        accepted = services.invite_create(app=app, actor=owner, user_id=member.pk)
        services.invite_accept(invite=accepted, user=member)
        pending = services.invite_create(app=app, actor=owner, user_id=invitee.pk)
        Invite.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(days=2))
        if public:
            services.app_update(app=app, actor=owner, is_public=True)
        if locked:
            services.app_lock(app=app, actor=owner)
        app.refresh_from_db()
        return World(
            app=app,
            users=users,
            invite=None if public else pending,
            target_email="target@acme.test",
            member_id=member.pk,
        )

    return build


def act(client, world: World, action: str):
    base = f"/api/v1/apps/{world.app.pk}"
    invite_id = world.invite.pk if world.invite else 999999
    return {
        "view": lambda: client.get(base),
        "update": lambda: client.patch(base, {"description": "Our shop"}),
        "members": lambda: client.get(f"{base}/members"),
        "invite": lambda: client.post(f"{base}/invites", {"email": world.target_email}),
        "remind": lambda: client.post(f"{base}/invites/{invite_id}/remind"),
        "revoke": lambda: client.delete(f"{base}/invites/{invite_id}"),
        "remove_member": lambda: client.delete(f"{base}/members/{world.member_id}"),
        "transfer": lambda: client.post(f"{base}/transfer", {"user_id": world.member_id}),
        "unlock": lambda: client.post(f"{base}/unlock"),
        "delete": lambda: client.delete(base),
    }[action]()


VIEWER_ACTIONS = {"view", "members"}
OWNER_ACTIONS = ["update", "invite", "remind", "revoke", "remove_member", "transfer", "unlock"]
ALL_ACTIONS = [*sorted(VIEWER_ACTIONS), *OWNER_ACTIONS, "delete"]


def expected(role: str, action: str, *, public: bool, locked: bool) -> int:
    if role == "anonymous":
        return 401
    sees = role == "owner" or (role == "member" and not public) or public
    if role in ("stranger", "unverified") or (role in ("invitee", "colleague") and not public):
        sees = False
    if not sees:
        return 404
    if role == "member" and action == "remove_member":
        return 204  # the member is the one removed: they leave the app
    if role != "owner":
        return 200 if action in VIEWER_ACTIONS else 403
    if action == "unlock" and not locked:
        return 409
    if public and action in ("invite", "remind", "revoke"):
        return 409 if action == "invite" else 404
    return {"delete": 204, "revoke": 204, "remove_member": 204, "invite": 201}.get(action, 200)


# Public apps take no invitations, so "member" is a private-app role (a former member of an
# app made public is just a colleague there).
CASES = [
    pytest.param(action, role, public, locked, id=f"{action}-{role}-{vis}-{state}")
    for action in ALL_ACTIONS
    for role in ROLES
    for public, vis in ((False, "private"), (True, "public"))
    for locked, state in ((False, "unlocked"), (True, "locked"))
    if not (public and role == "member")
]


@pytest.mark.parametrize(("action", "role", "public", "locked"), CASES)
def test_permission_matrix(world_for, client_for, action, role, public, locked):
    world = world_for(public=public, locked=locked)
    client = client_for(world.users[role])
    before = App.objects.filter(pk=world.app.pk).values().first()

    response = act(client, world, action)

    want = expected(role, action, public=public, locked=locked)
    assert response.status_code == want, response.content
    if want >= 400:
        body = response.json()
        assert set(body) == {"error"} and body["error"]["code"]
        assert App.objects.filter(pk=world.app.pk).values().first() == before


def test_list_shows_exactly_what_each_user_may_see(make_user, client_for):
    owner = make_user("owner@acme.test")
    member = make_user("member@acme.test")
    colleague = make_user("colleague@acme.test")
    stranger = make_user("eve@other.test")
    private = services.app_create(owner=owner, name="Private", url="https://a.test", tags=["a"])
    public = services.app_create(
        owner=owner, name="Public", url="https://b.test", tags=["b"], is_public=True
    )
    services.app_create(owner=colleague, name="Carl's", url="https://c.test", tags=["c"])
    services.app_create(owner=stranger, name="Other org", url="https://d.test", tags=["d"])
    invite = services.invite_create(app=private, actor=owner, user_id=member.pk)

    def names(user):
        return sorted(a["name"] for a in client_for(user).get("/api/v1/apps").json())

    assert names(owner) == ["Private", "Public"]
    assert names(member) == ["Public"]  # pending invite: not yet
    services.invite_accept(invite=invite, user=member)
    assert names(member) == ["Private", "Public"]
    assert names(colleague) == ["Carl's", "Public"]
    assert names(stranger) == ["Other org"]
    assert public.is_public


def test_each_app_says_what_the_user_may_do(owner, member, client_for):
    app = services.app_create(owner=owner, name="Shop", url="https://shop.test", tags=["x"])
    services.invite_accept(
        invite=services.invite_create(app=app, actor=owner, user_id=member.pk), user=member
    )

    mine = client_for(owner).get(f"/api/v1/apps/{app.pk}").json()
    theirs = client_for(member).get(f"/api/v1/apps/{app.pk}").json()

    assert mine["role"] == "owner" and mine["can"]["issue_token"] and mine["can"]["delete"]
    assert theirs["role"] == "member" and theirs["can"]["edit_config"]
    assert not theirs["can"]["issue_token"] and not theirs["can"]["delete"]
    assert mine["locked"] is False and mine["epoch"] == 1
