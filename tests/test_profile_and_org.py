"""The profile, the colleagues list, throttling, the error shape, create_user."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from orgs.models import Membership

pytestmark = pytest.mark.django_db


def test_user_edits_their_profile(owner, client_for):
    client = client_for(owner)

    response = client.patch(
        "/api/v1/me", {"first_name": " Olga ", "position": "Head of Growth"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["first_name"] == "Olga"
    assert response.json()["position"] == "Head of Growth"
    owner.refresh_from_db()
    assert (owner.first_name, owner.position) == ("Olga", "Head of Growth")


def test_email_is_not_editable_through_the_profile(owner, client_for):
    response = client_for(owner).patch("/api/v1/me", {"email": "boss@acme.test"}, format="json")

    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    owner.refresh_from_db()
    assert owner.email == "owner@acme.test"


def test_colleagues_list_shows_verified_users_of_the_same_org_only(
    owner, member, colleague, unverified_colleague, stranger, client_for
):
    response = client_for(owner).get("/api/v1/org")

    assert response.status_code == 200
    body = response.json()
    assert body["organization"]["domain"] == "acme.test"
    emails = sorted(c["email"] for c in body["colleagues"])
    assert emails == ["colleague@acme.test", "member@acme.test"]


def test_other_organization_sees_only_its_own_people(owner, stranger, make_user, client_for):
    make_user("adam@other.test")

    body = client_for(stranger).get("/api/v1/org").json()

    assert body["organization"]["domain"] == "other.test"
    assert [c["email"] for c in body["colleagues"]] == ["adam@other.test"]


def test_colleague_search_finds_verified_colleagues_by_name_or_address(
    owner, make_user, stranger, client_for
):
    make_user("ann.lee@acme.test", first_name="Ann", last_name="Lee")
    make_user("anna@acme.test", first_name="Anna", last_name="Berg")
    make_user("annie@acme.test", first_name="Annie", verified=False)
    make_user("ann@globex.test", first_name="Ann")

    def found(user, search):
        answer = client_for(user).get("/api/v1/org/colleagues", {"search": search})
        return [person["email"] for person in answer.json()]

    assert found(owner, "ann") == ["ann.lee@acme.test", "anna@acme.test"]
    assert found(owner, "ann berg") == ["anna@acme.test"]
    assert found(owner, "OWNER") == []  # not oneself
    assert found(stranger, "ann") == []  # nobody of another organization


def test_an_unverified_user_cannot_search_colleagues(make_user, client_for):
    unverified = make_user("new@acme.test", verified=False)

    response = client_for(unverified).get("/api/v1/org/colleagues", {"search": "a"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_verified"


def test_login_and_register_are_rate_limited(api, owner, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {"auth_login": "3/min", "auth_register": "3/min"}
    )
    wrong = {"email": owner.email, "password": "x" * 10}

    logins = [api.post("/api/v1/auth/login", wrong).status_code for _ in range(3)]
    limited = api.post("/api/v1/auth/login", wrong)
    registers = [
        api.post("/api/v1/auth/register", {"email": f"n{i}@z.test"}).status_code for i in range(4)
    ]

    assert logins == [401, 401, 401]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited.json()["error"]["retry_after"] >= 1
    assert registers == [400, 400, 400, 429]


def test_errors_share_one_json_shape(api, owner, client_for):
    not_found = client_for(owner).get("/api/v1/no-such-thing")
    unauthenticated = api.get("/api/v1/org")
    invalid = api.post("/api/v1/auth/login", {"email": "not-an-email"}, format="json")
    wrong_method = client_for(owner).delete("/api/v1/me")

    for response, status, code in [
        (not_found, 404, "not_found"),
        (unauthenticated, 401, "not_authenticated"),
        (invalid, 400, "invalid"),
        (wrong_method, 405, "method_not_allowed"),
    ]:
        assert response.status_code == status
        error = response.json()["error"]
        assert error["code"] == code
        assert isinstance(error["message"], str) and error["message"]
    assert set(invalid.json()["error"]["fields"]) == {"email", "password"}


def test_malformed_json_is_a_json_400(api):
    response = api.generic(
        "POST", "/api/v1/auth/login", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_create_user_command_founds_or_joins_verified(db, capsys):
    call_command("create_user", "ops@newco.test", "--password", "pw-123456", "--first-name", "Op")
    call_command("create_user", "second@newco.test", "--password", "pw-123456")

    first = Membership.objects.get(user__email="ops@newco.test")
    second = Membership.objects.get(user__email="second@newco.test")
    assert first.is_founder and first.is_verified
    assert not second.is_founder and second.is_verified
    assert first.organization == second.organization
    assert User.objects.get(email="ops@newco.test").check_password("pw-123456")
    assert "verified" in capsys.readouterr().out


def test_create_user_command_refuses_an_existing_address(owner):
    with pytest.raises(CommandError, match="exists"):
        call_command("create_user", "owner@acme.test", "--password", "pw-123456")


def test_createsuperuser_works_as_usual(db):
    call_command("createsuperuser", "--noinput", "--email", "root@ops.test", verbosity=0)

    admin = User.objects.get(email="root@ops.test")
    assert admin.is_superuser and admin.is_staff


def test_admin_lists_users_and_organizations(owner, stranger, client):
    User.objects.create_superuser("root@ops.test", "pw-123456")
    client.login(username="root@ops.test", password="pw-123456")

    users = client.get("/admin/accounts/user/")
    orgs = client.get("/admin/orgs/organization/")

    assert users.status_code == 200 and b"owner@acme.test" in users.content
    assert orgs.status_code == 200 and b"other.test" in orgs.content


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/auth/login" in schema.content
    assert docs.status_code == 200
