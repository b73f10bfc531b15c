"""REST: list, mark read, hide and clear notifications; nobody sees or touches anyone else's."""

import pytest

from apps_registry import services as app_services
from live.models import Notification
from outbox import kinds
from tokens import services as token_services

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications"


@pytest.fixture
def invited(owner, member, django_capture_on_commit_callbacks):
    """Two apps the member was invited to, each with its notification (newest first)."""
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("Shop", "Blog"):
            app = app_services.app_create(owner=owner, name=name, url="https://a.test", tags=["x"])
            app_services.invite_create(app=app, actor=owner, user_id=member.pk)
    return list(Notification.objects.filter(user=member))


def test_member_lists_their_notifications_newest_first(invited, member, owner, client_for):
    response = client_for(member).get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert [(n["kind"], n["app_name"]) for n in body] == [
        (kinds.INVITE_SENT, "Blog"),
        (kinds.INVITE_SENT, "Shop"),
    ]
    assert body[0]["data"]["actor"] == {"id": owner.pk, "name": "Olga"}
    assert body[0]["read_at"] is None


def test_others_see_none_of_them(invited, owner, colleague, stranger, client_for):
    for user in (owner, colleague, stranger):
        assert client_for(user).get(LIST).json() == []


def test_anonymous_gets_401(client_for):
    assert client_for(None).get(LIST).status_code == 401


def test_member_marks_a_notification_read(invited, member, client_for):
    notification = invited[0]

    response = client_for(member).post(f"{LIST}/{notification.pk}/read")

    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None and notification.hidden_at is None


def test_member_hides_a_notification(invited, member, client_for):
    hidden, kept = invited

    response = client_for(member).delete(f"{LIST}/{hidden.pk}")

    assert response.status_code == 204
    assert [n["id"] for n in client_for(member).get(LIST).json()] == [kept.pk]
    hidden.refresh_from_db()
    assert hidden.hidden_at is not None


def test_member_clears_every_notification(invited, member, client_for):
    assert client_for(member).delete(LIST).status_code == 204

    assert client_for(member).get(LIST).json() == []
    assert not Notification.objects.filter(user=member, hidden_at=None).exists()


@pytest.mark.parametrize("who", ["owner", "colleague", "stranger"])
def test_someone_elses_notification_answers_404(invited, who, request, client_for):
    client = client_for(request.getfixturevalue(who))
    notification = invited[0]

    assert client.post(f"{LIST}/{notification.pk}/read").status_code == 404
    assert client.delete(f"{LIST}/{notification.pk}").status_code == 404
    client.delete(LIST)  # clearing one's own list leaves the member's alone

    notification.refresh_from_db()
    assert notification.read_at is None and notification.hidden_at is None


def test_hidden_notification_answers_404(invited, member, client_for):
    client = client_for(member)
    client.delete(f"{LIST}/{invited[0].pk}")

    assert client.post(f"{LIST}/{invited[0].pk}/read").status_code == 404
    assert client.delete(f"{LIST}/{invited[0].pk}").status_code == 404


def test_notifications_about_an_app_leave_with_access_to_it(
    owner, member, client_for, django_capture_on_commit_callbacks
):
    def committed(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    app = committed(
        app_services.app_create, owner=owner, name="Shop", url="https://a.test", tags=["x"]
    )
    invite = committed(app_services.invite_create, app=app, actor=owner, user_id=member.pk)
    committed(app_services.invite_accept, invite=invite, user=member)
    committed(app_services.app_transfer, app=app, actor=owner, new_owner_id=member.pk)
    committed(token_services.token_issue, app=app, actor=member)  # the former owner is told
    assert Notification.objects.filter(user=owner, kind=kinds.APP_LOCKED).exists()

    committed(app_services.member_remove, app=app, actor=member, user_id=owner.pk)

    # The former owner still sees that the invitation was accepted and that they were removed,
    # but no longer what happened to an app they may not see.
    seen = [n["kind"] for n in client_for(owner).get(LIST).json()]
    assert seen == [kinds.MEMBER_REMOVED, kinds.INVITE_ACCEPTED]


def test_deleting_a_public_app_tells_its_colleagues(
    owner, colleague, stranger, client_for, django_capture_on_commit_callbacks
):
    app = app_services.app_create(
        owner=owner, name="Open", url="https://open.acme.test", tags=["o"], is_public=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        app_services.app_delete(app=app, actor=owner)

    deleted = Notification.objects.filter(kind=kinds.APP_DELETED)
    assert list(deleted.values_list("user__email", flat=True)) == ["colleague@acme.test"]
    assert not Notification.objects.filter(user=stranger).exists()
    body = client_for(colleague).get(LIST).json()
    assert "Open" in str(body)
