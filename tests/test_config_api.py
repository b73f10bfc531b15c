"""GET/PUT /api/v1/apps/{id}/config: roles, validation, lock (423), versions (409), freezing."""

import pytest

from apps_registry import services as app_services
from demo.shop import DEMO_CONFIG
from funnels.selectors import config_for_epoch
from outbox.models import DomainEvent
from tokens import services as token_services

pytestmark = pytest.mark.django_db

CONFIG = DEMO_CONFIG


@pytest.fixture
def app(owner, member):
    app = app_services.app_create(owner=owner, name="Shop", url="https://shop.test", tags=["x"])
    invite = app_services.invite_create(app=app, actor=owner, user_id=member.pk)
    app_services.invite_accept(invite=invite, user=member)
    return app


def url(app):
    return f"/api/v1/apps/{app.pk}/config"


def test_new_app_starts_with_an_empty_configuration(app, owner, client_for):
    body = client_for(owner).get(url(app)).json()

    assert body == {
        "version": 1,
        "locked": False,
        "funnel": {"order": "ordered", "window_seconds": 604800, "stages": []},
        "campaigns": [],
        "elements": [],
    }


@pytest.mark.parametrize("role", ["owner", "member"])
def test_owner_and_members_save_the_configuration(app, role, request, client_for):
    client = client_for(request.getfixturevalue(role))

    response = client.put(url(app), {**CONFIG, "version": 1})

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 2
    assert [s["name"] for s in body["funnel"]["stages"]] == ["Landing", "Product", "Buy", "Signup"]
    assert client.get(url(app)).json() == body


def test_colleagues_edit_public_apps_but_not_private_ones(app, owner, colleague, client_for):
    client = client_for(colleague)
    assert client.put(url(app), {**CONFIG, "version": 1}).status_code == 404

    app_services.app_update(app=app, actor=owner, is_public=True)

    assert client.put(url(app), {**CONFIG, "version": 1}).status_code == 200


@pytest.mark.parametrize("role", ["stranger", "unverified_colleague"])
def test_outsiders_see_no_configuration(app, role, request, client_for):
    client = client_for(request.getfixturevalue(role))

    assert client.get(url(app)).status_code == 404
    assert client.put(url(app), {**CONFIG, "version": 1}).status_code == 404


def test_anonymous_gets_401(app, api):
    assert api.get(url(app)).status_code == 401


def stages(*specs, **funnel):
    return {
        "funnel": {"stages": [{"name": n, "kind": k, "match": m} for n, k, m in specs], **funnel}
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"funnel": {"stages": []}}, "funnel.stages"),
        (stages(("A", "page", "no-slash")), "funnel.stages.0.match"),
        (stages(("A", "click", "#a[(")), "funnel.stages.0.match"),
        (stages(("A", "event", "sign up!")), "funnel.stages.0.match"),
        (stages(("A", "page", "/"), ("a", "page", "/b")), "funnel.stages.1.name"),
        (stages(("A", "sms", "/")), "funnel.stages.0.kind"),
        (stages(("A", "page", "/"), window_seconds=10), "funnel.window_seconds"),
        (stages(("A", "page", "/"), order="random"), "funnel.order"),
        ({"campaigns": [{"name": "No utm"}]}, "campaigns.0"),
        ({"elements": [{"name": "X", "selector": ""}]}, "elements.0.selector"),
    ],
)
def test_invalid_configuration_gets_per_field_errors(app, owner, client_for, change, field):
    body = {**CONFIG, **change, "version": 1}
    if "funnel" in change:
        body["funnel"] = {"order": "ordered", "window_seconds": 3600, **change["funnel"]}

    response = client_for(owner).put(url(app), body)

    assert response.status_code == 400, response.json()
    fields = response.json()["error"]["fields"]
    assert any(key == field or key.startswith(field + ".") for key in fields), fields
    assert client_for(owner).get(url(app)).json()["version"] == 1


def test_more_than_twenty_stages_are_refused(app, owner, client_for):
    stages = [{"name": f"S{i}", "kind": "page", "match": f"/s{i}"} for i in range(21)]
    body = {**CONFIG, "funnel": {"stages": stages}, "version": 1}

    response = client_for(owner).put(url(app), body)

    assert response.status_code == 400
    assert "funnel.stages" in response.json()["error"]["fields"]


def test_saving_on_an_old_version_is_a_conflict(app, owner, member, client_for):
    client_for(owner).put(url(app), {**CONFIG, "version": 1})

    late = client_for(member).put(url(app), {**CONFIG, "elements": [], "version": 1})

    assert late.status_code == 409
    assert late.json()["error"]["code"] == "version_conflict"
    assert late.json()["error"]["current_version"] == 2
    stored = client_for(owner).get(url(app)).json()
    assert stored["elements"] == CONFIG["elements"]


@pytest.mark.parametrize(("role", "hint"), [("owner", "unlock it"), ("member", "ask the owner")])
def test_locked_configuration_cannot_change(app, owner, role, hint, request, client_for):
    client_for(owner).put(url(app), {**CONFIG, "version": 1})
    token_services.token_issue(app=app, actor=owner)

    response = client_for(request.getfixturevalue(role)).put(url(app), {**CONFIG, "version": 2})

    assert response.status_code == 423
    assert response.json()["error"]["code"] == "app_locked"
    assert hint in response.json()["error"]["message"]
    assert client_for(owner).get(url(app)).json()["locked"] is True


def test_public_app_colleague_gets_423_when_locked(app, owner, colleague, client_for):
    app_services.app_update(app=app, actor=owner, is_public=True)
    token_services.token_issue(app=app, actor=owner)

    response = client_for(colleague).put(url(app), {**CONFIG, "version": 1})

    assert response.status_code == 423
    assert "ask the owner" in response.json()["error"]["message"]


def test_each_epoch_keeps_the_configuration_that_produced_its_data(app, owner, client_for):
    client = client_for(owner)
    client.put(url(app), {**CONFIG, "version": 1})
    token_services.token_issue(app=app, actor=owner)
    app_services.app_unlock(app=app, actor=owner)
    second = {**CONFIG, "elements": [], "version": 2}
    second["funnel"] = {**CONFIG["funnel"], "stages": CONFIG["funnel"]["stages"][:2]}
    client.put(url(app), second)
    app.refresh_from_db()
    token_services.token_issue(app=app, actor=owner)

    first_epoch = config_for_epoch(app, 1)
    second_epoch = config_for_epoch(app, 2)

    assert len(first_epoch["funnel"]["stages"]) == 4 and first_epoch["elements"]
    assert len(second_epoch["funnel"]["stages"]) == 2 and second_epoch["elements"] == []


def test_every_change_bumps_the_version_and_emits_config_changed(app, owner, client_for):
    client = client_for(owner)
    client.put(url(app), {**CONFIG, "version": 1})
    client.put(url(app), {**CONFIG, "campaigns": [], "version": 2})

    events = DomainEvent.objects.filter(kind="config.changed").order_by("id")

    assert [e.data["version"] for e in events] == [2, 3]
    assert all(e.app_ref == app.pk and e.actor == owner for e in events)
