"""Registering into an organization, and proving ownership of the address to join one."""

import re

import pytest

from accounts.models import User
from orgs.models import Membership, Organization
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"


def register(api, email, organization=None, password=PASSWORD, **extra):
    body = {
        "email": email,
        "password": password,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "organization": organization if organization is not None else email.split("@")[1],
        **extra,
    }
    return api.post(REGISTER, body, format="json")


def link_token(message) -> str:
    match = re.search(r"/verify\?token=(\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_first_person_of_a_domain_founds_its_organization(api, mailoutbox):
    response = register(api, "Ada@Analytical.Engine")

    assert response.status_code == 201
    assert response.json()["organization"] == {
        "domain": "analytical.engine",
        "name": "analytical.engine",
    }
    assert response.json()["verified"] is True
    assert response.json()["verification_required"] is False
    membership = Membership.objects.get(user__email="ada@analytical.engine")
    assert membership.is_founder and membership.is_verified
    assert mailoutbox == []


def test_organization_must_be_the_domain_of_the_email(api):
    response = register(api, "ada@analytical.engine", organization="google.com")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "organization" in error["fields"]
    assert not User.objects.exists()
    assert not Organization.objects.filter(domain="google.com").exists()


def test_joining_an_existing_organization_needs_verification(api, owner, mailoutbox):
    response = register(api, "joiner@acme.test")

    assert response.status_code == 201
    assert response.json()["verified"] is False
    assert response.json()["verification_required"] is True
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["joiner@acme.test"]
    membership = Membership.objects.get(user__email="joiner@acme.test")
    assert membership.organization.domain == "acme.test"
    assert not membership.is_verified and not membership.is_founder


def test_verification_link_admits_the_user(api, owner, mailoutbox, client_for):
    register(api, "joiner@acme.test")
    token = link_token(mailoutbox[0])

    response = api.post("/api/v1/auth/verify", {"token": token}, format="json")

    assert response.status_code == 200
    assert response.json()["verified"] is True
    joiner = User.objects.get(email="joiner@acme.test")
    org = client_for(joiner).get("/api/v1/org").json()
    assert [c["email"] for c in org["colleagues"]] == ["owner@acme.test"]


def test_verification_link_of_another_user_cannot_be_forged(api, owner, mailoutbox):
    register(api, "joiner@acme.test")
    token = link_token(mailoutbox[0])
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")

    response = api.post("/api/v1/auth/verify", {"token": forged}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_invalid"
    assert not Membership.objects.get(user__email="joiner@acme.test").is_verified


def test_expired_verification_link_is_refused(api, owner, mailoutbox, settings):
    register(api, "joiner@acme.test")
    token = link_token(mailoutbox[0])
    settings.EMAIL_VERIFICATION_MAX_AGE = -1

    response = api.post("/api/v1/auth/verify", {"token": token}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "token_expired"
    assert not Membership.objects.get(user__email="joiner@acme.test").is_verified


def test_unverified_user_sees_no_colleagues(api, owner, client_for):
    register(api, "joiner@acme.test")
    joiner = User.objects.get(email="joiner@acme.test")

    response = client_for(joiner).get("/api/v1/org")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_verified"
    assert "owner@acme.test" not in response.content.decode()


def test_someone_who_merely_types_a_domain_never_joins_it(api, owner, client_for):
    """Typing acme.test with an address elsewhere is refused; an acme address stays unverified."""
    refused = register(api, "mallory@evil.test", organization="acme.test")
    assert refused.status_code == 400

    register(api, "mallory@acme.test")
    mallory = User.objects.get(email="mallory@acme.test")
    owner_view = client_for(owner).get("/api/v1/org").json()

    assert "mallory@acme.test" not in [c["email"] for c in owner_view["colleagues"]]
    assert client_for(mallory).get("/api/v1/org").status_code == 403


def test_resend_sends_a_new_link_only_to_unverified_members(api, owner, mailoutbox):
    register(api, "joiner@acme.test")
    mailoutbox.clear()

    assert api.post("/api/v1/auth/verify/resend", {"email": "joiner@acme.test"}).status_code == 202
    assert api.post("/api/v1/auth/verify/resend", {"email": "owner@acme.test"}).status_code == 202
    assert api.post("/api/v1/auth/verify/resend", {"email": "nobody@acme.test"}).status_code == 202

    assert [m.to for m in mailoutbox] == [["joiner@acme.test"]]


def test_duplicate_email_is_a_conflict(api, owner):
    response = register(api, "OWNER@acme.test")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert User.objects.filter(email="owner@acme.test").count() == 1


def test_weak_password_is_refused_with_field_errors(api):
    response = register(api, "ada@analytical.engine", password="123")

    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_missing_and_unknown_fields_are_reported(api):
    response = api.post(REGISTER, {"email": "ada@x.test", "is_staff": True}, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"password", "first_name", "last_name", "organization", "is_staff"} <= set(fields)
    assert not User.objects.exists()
