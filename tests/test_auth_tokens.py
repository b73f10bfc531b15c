"""Login, access and refresh tokens, rotation, reuse detection, logout, forged tokens."""

import base64
import json
import uuid
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from accounts import tokens
from accounts.models import AuthSession
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(api, email, password=PASSWORD):
    return api.post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


def me(api, access):
    return api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_login_returns_a_working_token_pair(api, owner):
    response = login(api, "Owner@Acme.test")

    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    profile = me(api, pair["access"])
    assert profile.status_code == 200
    assert profile.json()["email"] == "owner@acme.test"
    assert profile.json()["organization"]["domain"] == "acme.test"


def test_access_token_lives_about_fifteen_minutes(api, owner):
    access = login(api, owner.email).json()["access"]
    claims = jwt.decode(access, options={"verify_signature": False})

    assert claims["exp"] - claims["iat"] == 15 * 60


def test_wrong_password_is_refused(api, owner):
    response = login(api, owner.email, password="wrong-password-123")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_api_requires_a_bearer_token(api, owner):
    response = api.get("/api/v1/me")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_refresh_rotates_the_refresh_token(api, owner):
    first = login(api, owner.email).json()

    response = api.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}, format="json")

    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert me(api, second["access"]).status_code == 200


def test_reusing_an_old_refresh_token_revokes_the_whole_chain(api, owner):
    first = login(api, owner.email).json()
    second = api.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}).json()

    replay = api.post("/api/v1/auth/refresh", {"refresh": first["refresh"]}, format="json")

    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_reused"
    assert api.post("/api/v1/auth/refresh", {"refresh": second["refresh"]}).status_code == 401
    assert me(api, second["access"]).status_code == 401
    assert AuthSession.objects.get().revoked_reason == "refresh_reuse"


def test_reuse_in_one_session_leaves_other_logins_alone(api, owner):
    laptop = login(api, owner.email).json()
    phone = login(api, owner.email).json()
    api.post("/api/v1/auth/refresh", {"refresh": laptop["refresh"]})
    api.post("/api/v1/auth/refresh", {"refresh": laptop["refresh"]})

    assert me(api, phone["access"]).status_code == 200


def test_logout_revokes_access_and_refresh_tokens(api, owner):
    pair = login(api, owner.email).json()

    response = api.post(
        "/api/v1/auth/logout", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {pair['access']}"
    )

    assert response.status_code == 204
    assert me(api, pair["access"]).status_code == 401
    assert api.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_logout_with_the_refresh_token_alone(api, owner):
    pair = login(api, owner.email).json()

    assert api.post("/api/v1/auth/logout", {"refresh": pair["refresh"]}).status_code == 204
    assert me(api, pair["access"]).status_code == 401


def test_expired_access_token_is_refused(api, owner, settings):
    settings.ACCESS_TOKEN_LIFETIME = timedelta(seconds=-1)
    access = login(api, owner.email).json()["access"]

    response = me(api, access)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"


def test_expired_refresh_token_is_refused(api, owner, settings):
    settings.REFRESH_TOKEN_LIFETIME = timedelta(seconds=-1)
    refresh = login(api, owner.email).json()["refresh"]

    assert api.post("/api/v1/auth/refresh", {"refresh": refresh}).status_code == 401


def _claims_of_new_session(owner):
    session = AuthSession.objects.create(user=owner)
    now = timezone.now()
    return {
        "iss": "datalab",
        "typ": "access",
        "sub": str(owner.pk),
        "sid": str(session.id),
        "jti": str(uuid.uuid4()),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }


def test_token_signed_with_another_key_is_refused(api, owner):
    forged = jwt.encode(_claims_of_new_session(owner), "not-the-server-key" * 3, algorithm="HS256")

    assert me(api, forged).status_code == 401


def test_alg_none_token_is_refused(api, owner):
    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(_claims_of_new_session(owner))}."

    assert me(api, unsigned).status_code == 401


def test_refresh_token_is_not_accepted_as_access_token(api, owner):
    refresh = login(api, owner.email).json()["refresh"]

    assert me(api, refresh).status_code == 401


def test_token_of_a_deactivated_user_stops_working(api, owner):
    access = login(api, owner.email).json()["access"]
    owner.is_active = False
    owner.save()

    assert me(api, access).status_code == 401


def test_signing_key_is_derived_per_purpose(settings):
    key = tokens.signing_key("user-token", settings.SECRET_KEY)

    assert key != settings.SECRET_KEY.encode()
    assert key != tokens.signing_key("app-token", settings.SECRET_KEY)


def _signed(claims: dict) -> str:
    """Claims signed with the server's real user-token key (only the claims are wrong)."""
    return jwt.encode(claims, tokens.signing_key("user-token", _secret()), algorithm="HS256")


def _secret() -> str:
    from django.conf import settings

    return settings.SECRET_KEY


def test_a_token_of_another_issuer_or_for_another_audience_is_refused(api, owner):
    other_issuer = _signed({**_claims_of_new_session(owner), "iss": "elsewhere"})
    other_audience = _signed({**_claims_of_new_session(owner), "aud": "another-service"})

    assert me(api, _signed(_claims_of_new_session(owner))).status_code == 200  # the control
    assert me(api, other_issuer).status_code == 401
    assert me(api, other_audience).status_code == 401


def test_an_app_token_is_not_a_users_token(api, owner, tracked_app):
    response = me(api, tracked_app.token)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_invalid"
