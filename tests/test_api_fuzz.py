"""Every operation of the OpenAPI schema, fuzzed by schemathesis as an anonymous visitor, a
colleague and the owner: no server error, no hang, and every refusal in the one JSON error
shape. Path ids point at the owner's real app, so that the owner's requests reach real objects."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

ROLES = ["anonymous", "colleague", "owner"]
EXAMPLES = 12  # per operation and role: ~1,700 requests in all


@pytest.fixture(autouse=True)
def _connections_stay_open():
    """Like Django's test client: requests do not close the test's database connection (on
    PostgreSQL that would end the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=ROLES)
def role(request, tracked_app, colleague, owner):
    from accounts import services as account_services
    from tests.conftest import PASSWORD

    user = {"anonymous": None, "colleague": colleague, "owner": owner}[request.param]
    headers = {}
    if user is not None:
        access = account_services.auth_login(email=user.email, password=PASSWORD).access
        headers["Authorization"] = f"Bearer {access}"
    return headers, tracked_app


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_operation_answers_a_server_error_or_an_error_out_of_shape(case, role):
    headers, app = role
    if "app_id" in (case.path_parameters or {}):
        case.path_parameters["app_id"] = app.pk

    response = case.call(headers=headers, timeout=10)

    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), error
