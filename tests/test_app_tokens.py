"""App tokens: only the owner issues, rotates and revokes; issuing locks; unlock revokes;
rotated tokens work during the grace period only."""

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from apps_registry import services as app_services
from tokens import services
from tokens.models import AppToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(owner, member):
    app = app_services.app_create(owner=owner, name="Shop", url="https://shop.test", tags=["x"])
    invite = app_services.invite_create(app=app, actor=owner, user_id=member.pk)
    app_services.invite_accept(invite=invite, user=member)
    return app


def token_url(app):
    return f"/api/v1/apps/{app.pk}/token"


def test_owner_issues_a_token_with_a_snippet_and_the_app_locks(app, owner, client_for):
    response = client_for(owner).post(token_url(app))

    assert response.status_code == 201
    body = response.json()
    assert body["snippet"] == (
        f'<script async src="http://127.0.0.1:8000/static/datalab.js" '
        f'data-token="{body["token"]}"></script>'
    )
    app.refresh_from_db()
    assert app.locked and app.locked_by == owner
    grant = services.token_check(body["token"])
    assert (grant.app.pk, grant.epoch) == (app.pk, 1)


def test_token_carries_app_epoch_and_id_but_the_server_keeps_no_copy(app, owner):
    issued = services.token_issue(app=app, actor=owner)

    claims = jwt.decode(issued.token, options={"verify_signature": False})

    assert {"app": app.pk, "epoch": 1, "jti": str(issued.record.jti)}.items() <= claims.items()
    stored = AppToken.objects.filter(pk=issued.record.pk).values().get()
    assert issued.token not in str(stored)


@pytest.mark.parametrize("role", ["member", "colleague_public"])
def test_viewers_read_the_snippet_but_cannot_issue_rotate_or_revoke(
    app, owner, colleague, role, client_for
):
    issued = services.token_issue(app=app, actor=owner)
    viewer = colleague if role == "colleague_public" else app.invites.get().invitee
    if role == "colleague_public":
        app_services.app_update(app=app, actor=owner, is_public=True)
    client = client_for(viewer)

    read = client.get(token_url(app))

    assert read.status_code == 200 and read.json()["token"] == issued.token
    assert client.post(token_url(app)).status_code == 403
    assert client.post(token_url(app) + "/rotate").status_code == 403
    assert client.delete(token_url(app)).status_code == 403
    assert AppToken.objects.count() == 1
    services.token_check(issued.token)


def test_outsiders_cannot_read_the_token(app, owner, stranger, colleague, client_for):
    services.token_issue(app=app, actor=owner)

    assert client_for(stranger).get(token_url(app)).status_code == 404
    assert client_for(colleague).get(token_url(app)).status_code == 404


def test_unlock_revokes_every_token(app, owner):
    issued = services.token_issue(app=app, actor=owner)
    rotated = services.token_rotate(app=app, actor=owner)

    app_services.app_unlock(app=app, actor=owner)

    for token in (issued.token, rotated.token):
        with pytest.raises(services.TokenRefused, match="unlocked"):
            services.token_check(token)


def test_rotated_token_works_during_the_grace_period_only(app, owner, client_for):
    old = services.token_issue(app=app, actor=owner)

    response = client_for(owner).post(token_url(app) + "/rotate")

    assert response.status_code == 201
    new_token = response.json()["token"]
    assert new_token != old.token
    services.token_check(old.token)
    services.token_check(new_token)
    AppToken.objects.filter(pk=old.record.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(services.TokenRefused, match="rotated out"):
        services.token_check(old.token)
    services.token_check(new_token)
    assert client_for(owner).get(token_url(app)).json()["token"] == new_token


def test_default_grace_period_is_a_day(app, owner):
    old = services.token_issue(app=app, actor=owner)
    services.token_rotate(app=app, actor=owner)

    old.record.refresh_from_db()

    assert abs(old.record.expires_at - (timezone.now() + timedelta(hours=24))) < timedelta(
        minutes=1
    )


def test_revoke_stops_every_token_and_a_new_one_can_be_issued(app, owner, client_for):
    old = services.token_issue(app=app, actor=owner)
    client = client_for(owner)

    assert client.delete(token_url(app)).status_code == 204
    with pytest.raises(services.TokenRefused, match="revoked"):
        services.token_check(old.token)
    assert client.get(token_url(app)).status_code == 404
    fresh = client.post(token_url(app))
    assert fresh.status_code == 201
    services.token_check(fresh.json()["token"])


def test_issuing_twice_is_a_conflict(app, owner, client_for):
    client_for(owner).post(token_url(app))

    again = client_for(owner).post(token_url(app))

    assert again.status_code == 409 and again.json()["error"]["code"] == "token_exists"
    assert AppToken.objects.count() == 1


def test_forged_and_foreign_tokens_are_refused(app, owner):
    issued = services.token_issue(app=app, actor=owner)
    claims = jwt.decode(issued.token, options={"verify_signature": False})

    forged = jwt.encode(claims, "guessed-key-guessed-key-guessed-key", algorithm="HS256")
    user_token = jwt.encode({**claims, "typ": "access"}, "x" * 32, algorithm="HS256")

    for token in (None, "", "garbage", forged, user_token, issued.token[:-2]):
        with pytest.raises(services.TokenRefused):
            services.token_check(token)


def test_deleted_app_tokens_are_refused(app, owner):
    issued = services.token_issue(app=app, actor=owner)

    app_services.app_delete(app=app, actor=owner)

    with pytest.raises(services.TokenRefused):
        services.token_check(issued.token)
