"""POST /api/v1/ingest: the HTTP fallback for sendBeacon, with CORS for the app's origin only."""

import json
import time
import uuid

import pytest

from tests.conftest import APP_ORIGIN

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/ingest"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def batch(token=None, n=2):
    events = [
        {
            "id": str(uuid.uuid4()),
            "type": "pageview",
            "ts": int(time.time() * 1000),
            "url": f"{APP_ORIGIN}/products/{i}",
            "referrer": "",
            "title": "P",
        }
        for i in range(n)
    ]
    body = {"type": "batch", "events": events}
    if token:
        body["token"] = token
    return body


def post(client, body, *, origin=APP_ORIGIN, content_type="text/plain", **headers):
    extra = {"HTTP_USER_AGENT": CHROME, **headers}
    if origin:
        extra["HTTP_ORIGIN"] = origin
    return client.post(URL, json.dumps(body), content_type=content_type, **extra)


def test_beacon_batch_is_stored_and_acked_with_cors(client, tracked_app, event_store):
    body = batch(tracked_app.token)

    response = post(client, body)

    assert response.status_code == 200
    assert response.json()["ids"] == [e["id"] for e in body["events"]]
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert event_store.count_events(tracked_app.pk, 1) == 2


def test_token_may_come_in_a_header(client, tracked_app, event_store):
    response = post(
        client, batch(), content_type="application/json", HTTP_X_DATALAB_TOKEN=tracked_app.token
    )

    assert response.status_code == 200 and len(response.json()["ids"]) == 2


def test_resending_through_the_fallback_stores_once(client, tracked_app, event_store):
    body = batch(tracked_app.token)

    post(client, body)
    again = post(client, body)

    assert len(again.json()["ids"]) == 2
    assert event_store.count_events(tracked_app.pk, 1) == 2


def test_other_origins_get_no_cors_and_no_storage(client, tracked_app, event_store):
    response = post(client, batch(tracked_app.token), origin="https://evil.test")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_refused"
    assert "Access-Control-Allow-Origin" not in response
    assert event_store.count_events(tracked_app.pk, 1) == 0


def test_bad_token_is_401(client, tracked_app, event_store):
    response = post(client, batch("forged.token.value"))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_refused"


def test_preflight_names_the_requesting_origin(client, tracked_app):
    response = client.options(
        URL, HTTP_ORIGIN=APP_ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [("{nope", 400), ('{"type": "batch", "events": "x"}', 400), ("x" * 70000, 413)],
)
def test_malformed_bodies_get_json_errors(client, tracked_app, raw, status):
    response = client.post(URL, raw, content_type="text/plain", HTTP_ORIGIN=APP_ORIGIN)

    assert response.status_code == status
    assert response.json()["error"]["code"]


def test_only_post_is_allowed(client, tracked_app):
    assert client.get(URL).status_code == 405


def test_a_burst_of_batches_from_one_address_is_refused_in_json(
    client, tracked_app, event_store, settings
):
    settings.INGEST_ADDRESS_RATE = 10  # events/s, 50 at once

    answers = [post(client, batch(tracked_app.token, n=20)) for _ in range(3)]
    other = post(client, batch(tracked_app.token, n=20), REMOTE_ADDR="198.51.100.9")

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json()["error"]["code"] == "rate_limited"
    assert other.status_code == 200  # another address is not held up
    assert event_store.count_events(tracked_app.pk, 1) == 60
