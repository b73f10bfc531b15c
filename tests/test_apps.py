"""Apps: create, invite, remind, reject, revoke, remove, transfer, unlock, delete, audit, admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from apps_registry import services
from apps_registry.models import App, AuditEntry, Invite, RetiredPartition
from datalab.errors import Conflict, InvalidInput
from outbox.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(owner):
    return services.app_create(owner=owner, name="Shop", url="https://shop.acme.test", tags=["web"])


def make_member(app, owner, user):
    invite = services.invite_create(app=app, actor=owner, user_id=user.pk)
    return services.invite_accept(invite=invite, user=user)


# --- create ----------------------------------------------------------------------------------


def test_owner_creates_a_private_app_by_default(owner, client_for):
    response = client_for(owner).post(
        "/api/v1/apps",
        {"name": "Shop", "url": "https://shop.acme.test:8443/", "tags": ["web", "b2c"]},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["is_public"] is False and body["locked"] is False and body["epoch"] == 1
    assert body["owner"]["email"] == "owner@acme.test"
    assert body["origin"] == "https://shop.acme.test:8443"
    stored = App.objects.get(pk=body["id"])
    assert stored.organization.domain == "acme.test" and stored.tags == ["web", "b2c"]


def test_app_names_are_unique_within_an_organization_only(owner, colleague, stranger, client_for):
    client_for(owner).post("/api/v1/apps", {"name": "Shop", "url": "https://a.test", "tags": ["a"]})

    clash = client_for(colleague).post(
        "/api/v1/apps", {"name": "shop", "url": "https://b.test", "tags": ["b"]}
    )
    elsewhere = client_for(stranger).post(
        "/api/v1/apps", {"name": "Shop", "url": "https://c.test", "tags": ["c"]}
    )

    assert clash.status_code == 400 and "name" in clash.json()["error"]["fields"]
    assert elsewhere.status_code == 201
    assert App.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "url": "ftp://files.test", "tags": ["a"]}, "url"),
        ({"name": "A", "url": "https://a.test", "tags": []}, "tags"),
        ({"name": "A", "url": "https://a.test", "tags": ["a", "b", "c", "d", "e", "f"]}, "tags"),
        ({"name": "A", "url": "https://a.test", "tags": ["x", "X"]}, "tags"),
        ({"name": " ", "url": "https://a.test", "tags": ["a"]}, "name"),
        (
            {"name": "A", "url": "https://a.test", "tags": ["a"], "timezone": "Mars/Base"},
            "timezone",
        ),
        ({"name": "A", "url": "https://a.test", "tags": ["a"], "owner": 1}, "owner"),
    ],
)
def test_invalid_app_fields_are_reported_per_field(owner, client_for, body, field):
    response = client_for(owner).post("/api/v1/apps", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not App.objects.exists()


def test_unverified_user_cannot_create_apps(unverified_colleague, client_for):
    response = client_for(unverified_colleague).post(
        "/api/v1/apps", {"name": "A", "url": "https://a.test", "tags": ["a"]}
    )

    assert response.status_code == 403
    assert not App.objects.exists()


# --- invitations -----------------------------------------------------------------------------


def test_invite_by_email_then_accept_makes_a_member(app, owner, member, client_for):
    created = client_for(owner).post(
        f"/api/v1/apps/{app.pk}/invites", {"email": "MEMBER@acme.test"}
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"

    mine = client_for(member).get("/api/v1/invites").json()
    assert [(i["app"]["name"], i["invited_by"]["email"]) for i in mine] == [
        ("Shop", "owner@acme.test")
    ]
    accepted = client_for(member).post(f"/api/v1/invites/{mine[0]['id']}/accept")

    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    members = client_for(owner).get(f"/api/v1/apps/{app.pk}/members").json()["members"]
    assert [m["user"]["email"] for m in members] == ["member@acme.test"]


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("eve@other.test", "not_a_colleague"),
        ("nobody@acme.test", "not_a_colleague"),
        ("newbie@acme.test", "invitee_unverified"),
        ("owner@acme.test", "invitee_is_owner"),
    ],
)
def test_ineligible_invitees_are_refused(
    app, owner, stranger, unverified_colleague, client_for, who, code
):
    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/invites", {"email": who})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not Invite.objects.exists()


def test_inviting_a_member_or_pending_invitee_again_is_a_conflict(app, owner, member, colleague):
    make_member(app, owner, member)
    services.invite_create(app=app, actor=owner, user_id=colleague.pk)

    for user in (member, colleague):
        with pytest.raises(Conflict, match=r"member|invited already"):
            services.invite_create(app=app, actor=owner, user_id=user.pk)
    assert Invite.objects.filter(app=app).count() == 2


def test_public_apps_take_no_invites(owner, colleague, client_for):
    app = services.app_create(
        owner=owner, name="Open", url="https://o.test", tags=["o"], is_public=True
    )

    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/invites", {"user_id": colleague.pk})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "app_is_public"
    assert "whole organization" in response.json()["error"]["message"]


def test_invites_expire_after_seven_days(app, owner, member, client_for):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)
    Invite.objects.filter(pk=invite.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    listed = client_for(member).get("/api/v1/invites").json()
    accept = client_for(member).post(f"/api/v1/invites/{invite.pk}/accept")

    assert listed == []
    assert accept.status_code == 409 and accept.json()["error"]["code"] == "invite_expired"
    assert not app.is_member(member)
    assert invite.expires_at - invite.created_at == timedelta(days=7)
    again = services.invite_create(app=app, actor=owner, user_id=member.pk)
    assert again.status == "pending"


def test_reminder_at_most_once_a_day(app, owner, member, client_for):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)
    url = f"/api/v1/apps/{app.pk}/invites/{invite.pk}/remind"
    client = client_for(owner)

    too_soon = client.post(url)
    Invite.objects.filter(pk=invite.pk).update(created_at=timezone.now() - timedelta(days=1))
    first = client.post(url)
    second = client.post(url)

    assert too_soon.status_code == 429
    assert first.status_code == 200 and first.json()["last_reminded_at"]
    assert second.status_code == 429
    assert second.json()["error"]["code"] == "reminder_too_soon"
    assert 0 < second.json()["error"]["retry_after"] <= 86400
    assert DomainEvent.objects.filter(kind="invite.reminded").count() == 1


def test_invitee_rejects(app, owner, member, client_for):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)

    response = client_for(member).post(f"/api/v1/invites/{invite.pk}/reject")

    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert client_for(member).get(f"/api/v1/apps/{app.pk}").status_code == 404
    event = DomainEvent.objects.get(kind="invite.rejected")
    assert event.recipients == [owner.pk]


def test_nobody_else_can_answer_an_invitation(app, owner, member, colleague, client_for):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)

    response = client_for(colleague).post(f"/api/v1/invites/{invite.pk}/accept")

    assert response.status_code == 404
    assert Invite.objects.get(pk=invite.pk).status == "pending"


def test_owner_revokes_a_pending_invite(app, owner, member, client_for):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)

    response = client_for(owner).delete(f"/api/v1/apps/{app.pk}/invites/{invite.pk}")

    assert response.status_code == 204
    assert Invite.objects.get(pk=invite.pk).status == "revoked"
    assert client_for(member).post(f"/api/v1/invites/{invite.pk}/accept").status_code == 409


def test_removed_member_loses_access_at_once(app, owner, member, client_for):
    make_member(app, owner, member)
    member_client = client_for(member)
    assert member_client.get(f"/api/v1/apps/{app.pk}").status_code == 200

    response = client_for(owner).delete(f"/api/v1/apps/{app.pk}/members/{member.pk}")

    assert response.status_code == 204
    assert member_client.get(f"/api/v1/apps/{app.pk}").status_code == 404


def test_member_leaves_and_no_longer_sees_the_app(app, owner, member, client_for):
    make_member(app, owner, member)
    member_client = client_for(member)
    assert member_client.get(f"/api/v1/apps/{app.pk}").json()["can"]["leave"] is True

    response = member_client.delete(f"/api/v1/apps/{app.pk}/members/{member.pk}")

    assert response.status_code == 204
    assert member_client.get(f"/api/v1/apps/{app.pk}").status_code == 404
    assert app.pk not in [a["id"] for a in member_client.get("/api/v1/apps").json()]
    assert not app.is_member(member)
    left = DomainEvent.objects.filter(kind="member.left").get()
    assert left.actor_id == member.pk and left.recipients == [owner.pk]


def test_owner_cannot_leave_their_own_app(app, owner, client_for):
    response = client_for(owner).delete(f"/api/v1/apps/{app.pk}/members/{owner.pk}")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "owner_cannot_leave"
    assert client_for(owner).get(f"/api/v1/apps/{app.pk}").json()["can"]["leave"] is False


def test_a_member_cannot_remove_another_member(app, owner, member, colleague, client_for):
    make_member(app, owner, member)
    make_member(app, owner, colleague)

    response = client_for(member).delete(f"/api/v1/apps/{app.pk}/members/{colleague.pk}")

    assert response.status_code == 403
    assert app.is_member(colleague) and app.is_member(member)


def test_colleagues_and_other_orgs_cannot_remove_anyone(
    owner, member, colleague, stranger, client_for
):
    public = services.app_create(
        owner=owner, name="P", url="https://p.test", tags=["p"], is_public=True
    )
    url = f"/api/v1/apps/{public.pk}/members/{member.pk}"

    assert client_for(colleague).delete(url).status_code == 403
    assert client_for(stranger).delete(url).status_code == 404


def test_making_an_app_public_lapses_pending_invites(app, owner, member):
    invite = services.invite_create(app=app, actor=owner, user_id=member.pk)

    services.app_update(app=app, actor=owner, is_public=True)

    assert Invite.objects.get(pk=invite.pk).status == "revoked"


def test_making_an_app_private_hides_it_from_colleagues(owner, colleague, client_for):
    app = services.app_create(
        owner=owner, name="P", url="https://p.test", tags=["p"], is_public=True
    )
    assert client_for(colleague).get(f"/api/v1/apps/{app.pk}").status_code == 200

    services.app_update(app=app, actor=owner, is_public=False)

    assert client_for(colleague).get(f"/api/v1/apps/{app.pk}").status_code == 404


# --- transfer, lock, unlock, delete ------------------------------------------------------------


def test_transfer_to_a_member_keeps_the_old_owner_as_member(app, owner, member, client_for):
    make_member(app, owner, member)

    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/transfer", {"user_id": member.pk})

    assert response.status_code == 200
    assert response.json()["owner"]["email"] == "member@acme.test"
    app.refresh_from_db()
    assert app.owner == member and app.is_member(owner) and not app.is_member(member)
    assert client_for(owner).delete(f"/api/v1/apps/{app.pk}").status_code == 403


def test_transfer_of_a_private_app_to_a_non_member_is_refused(app, owner, colleague, client_for):
    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/transfer", {"user_id": colleague.pk})

    assert response.status_code == 400
    app.refresh_from_db()
    assert app.owner == owner


def test_public_app_can_go_to_any_verified_colleague(owner, colleague, stranger):
    app = services.app_create(
        owner=owner, name="P", url="https://p.test", tags=["p"], is_public=True
    )

    with pytest.raises(InvalidInput):
        services.app_transfer(app=app, actor=owner, new_owner_id=stranger.pk)
    services.app_transfer(app=app, actor=owner, new_owner_id=colleague.pk)

    app.refresh_from_db()
    assert app.owner == colleague


def test_unlock_bumps_the_epoch_and_retires_the_old_partition(app, owner, client_for):
    services.app_lock(app=app, actor=owner)

    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/unlock")

    assert response.status_code == 200
    assert response.json()["epoch"] == 2 and response.json()["locked"] is False
    retired = RetiredPartition.objects.get(app_ref=app.pk)
    assert (retired.epoch, retired.reason) == (1, "unlocked")
    app.refresh_from_db()
    assert app.locked_by == owner


def test_unlocking_an_unlocked_app_is_a_conflict(app, owner, client_for):
    response = client_for(owner).post(f"/api/v1/apps/{app.pk}/unlock")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_locked"
    app.refresh_from_db()
    assert app.epoch == 1


def test_url_of_a_locked_app_changes_only_after_unlocking(app, owner, client_for):
    services.app_lock(app=app, actor=owner)
    client = client_for(owner)

    refused = client.patch(f"/api/v1/apps/{app.pk}", {"url": "https://elsewhere.test"})
    renamed = client.patch(f"/api/v1/apps/{app.pk}", {"name": "Shop EU"})

    assert refused.status_code == 423
    assert renamed.status_code == 200 and renamed.json()["name"] == "Shop EU"
    app.refresh_from_db()
    assert app.url == "https://shop.acme.test"


def test_delete_removes_the_app_and_retires_every_epoch(app, owner, member, client_for):
    make_member(app, owner, member)
    services.app_lock(app=app, actor=owner)
    services.app_unlock(app=app, actor=owner)
    app_id = app.pk

    response = client_for(owner).delete(f"/api/v1/apps/{app_id}")

    assert response.status_code == 204
    assert not App.objects.filter(pk=app_id).exists()
    assert not Invite.objects.filter(app_id=app_id).exists()
    retired = list(RetiredPartition.objects.filter(app_ref=app_id).values_list("epoch", "reason"))
    assert retired == [(1, "unlocked"), (2, "deleted")]
    assert client_for(member).get(f"/api/v1/apps/{app_id}").status_code == 404
    assert DomainEvent.objects.get(kind="app.deleted").recipients == [member.pk]


# --- audit trail and admin -------------------------------------------------------------------


def test_every_change_is_in_the_audit_trail(app, owner, member):
    make_member(app, owner, member)
    services.app_lock(app=app, actor=owner)
    services.app_unlock(app=app, actor=owner)
    services.app_delete(app=app, actor=owner)

    trail = list(
        AuditEntry.objects.order_by("at", "id").values_list("actor_email", "action", "app_name")
    )

    assert trail == [
        ("owner@acme.test", "app.created", "Shop"),
        ("owner@acme.test", "invite.sent", "Shop"),
        ("member@acme.test", "invite.accepted", "Shop"),
        ("owner@acme.test", "app.locked", "Shop"),
        ("owner@acme.test", "app.unlocked", "Shop"),
        ("owner@acme.test", "app.deleted", "Shop"),
    ]
    assert AuditEntry.objects.filter(action="app.unlocked").get().data == {
        "old_epoch": 1,
        "epoch": 2,
    }


@pytest.fixture
def operator(db, client):
    User.objects.create_superuser("root@ops.test", "pw-123456")
    client.login(username="root@ops.test", password="pw-123456")
    return client


def test_admin_shows_apps_and_the_audit_trail(app, operator):
    apps = operator.get("/admin/apps_registry/app/")
    trail = operator.get("/admin/apps_registry/auditentry/")

    assert apps.status_code == 200 and b"Shop" in apps.content
    assert trail.status_code == 200 and b"app.created" in trail.content


def test_admin_unlock_cannot_bypass_the_owner_rule(app, owner, operator):
    services.app_lock(app=app, actor=owner)

    response = operator.post(
        "/admin/apps_registry/app/",
        {"action": "unlock", "_selected_action": [app.pk]},
        follow=True,
    )

    assert b"Only the app" in response.content
    app.refresh_from_db()
    assert app.locked and app.epoch == 1


def test_admin_transfer_cannot_bypass_the_owner_rule(app, owner, member, operator):
    make_member(app, owner, member)

    response = operator.post(
        "/admin/apps_registry/app/",
        {"action": "transfer", "_selected_action": [app.pk], "user_id": member.pk},
        follow=True,
    )

    assert b"Only the app" in response.content
    app.refresh_from_db()
    assert app.owner == owner


def test_admin_unlock_by_the_owner_goes_through_the_service(app, owner, client):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    services.app_lock(app=app, actor=owner)
    client.force_login(owner)

    client.post("/admin/apps_registry/app/", {"action": "unlock", "_selected_action": [app.pk]})

    app.refresh_from_db()
    assert not app.locked and app.epoch == 2
    assert AuditEntry.objects.filter(action="app.unlocked").exists()
