"""Every insights endpoint against a brute-force reference over the same generated events."""

import csv
import dataclasses
import datetime as dt
import io
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps_registry import services as app_services
from demo import traffic as synthetic
from insights.funnel import visitor_reach
from tests import insights_reference as ref
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
START_MS = int(START.timestamp() * 1000)
DAYS = 10
RANGE = {"from": "2026-10-01", "to": "2026-10-10"}
END_MS = START_MS + DAYS * 86_400_000


@pytest.fixture
def traffic(tracked_app, event_store):
    events = synthetic.sample(
        app_id=tracked_app.pk,
        url=APP_ORIGIN,
        first_day=START.date(),
        days=DAYS,
        visitors=250,
        first_party_ids=True,  # people who come back on other days: range uniques are not sums
    )
    for batch, start in enumerate(range(0, len(events), 500)):
        event_store.append(events[start : start + 500])
        if batch % 2:  # column parts (and their rollups) of some events, the others pending
            event_store.flush_pending()
    return events


def get(client, app, name, **params):
    response = client.get(f"/api/v1/apps/{app.pk}/insights/{name}", {**RANGE, **params})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    "filters",
    [{}, {"browser": "Firefox"}, {"device": "mobile"}, {"path": "/pricing"},
     {"referrer": "google.com"}, {"campaign": "Spring"}, {"os": "iOS", "referrer": "(direct)"}],
)  # fmt: skip
def test_overview_matches_the_reference(traffic, tracked_app, owner, client_for, filters):
    body = get(client_for(owner), tracked_app, "overview", **filters)

    events = ref.apply_filters(ref.in_range(traffic, START_MS, END_MS), filters)
    expected = ref.overview(events, filters)
    assert {k: body[k] for k in expected} == expected
    assert body["interval"] == "day" and len(body["series"]) == DAYS
    assert sum(point["pageviews"] for point in body["series"]) == expected["pageviews"]
    days = [START_MS + day * 86_400_000 for day in range(DAYS)]
    by_start = ref.sessions_by_start(events, days)
    assert [{k: point[k] for k in by_start[0]} for point in body["series"]] == by_start


def test_the_previous_period_comes_along_when_asked(traffic, tracked_app, owner, client_for):
    body = get(
        client_for(owner), tracked_app, "overview", compare="previous",
        **{"from": "2026-10-06", "to": "2026-10-10"},
    )  # fmt: skip

    previous_start = START_MS  # 2026-10-01 .. 2026-10-05
    expected = ref.overview(ref.in_range(traffic, previous_start, previous_start + 5 * 86_400_000))
    assert body["previous"] == {"from": "2026-10-01", "to": "2026-10-05", **expected}
    assert "previous" not in get(client_for(owner), tracked_app, "overview")


def test_daily_visitors_are_not_summed_into_the_range(traffic, tracked_app, owner, client_for):
    body = get(client_for(owner), tracked_app, "overview")

    daily = sum(point["visitors"] for point in body["series"])
    assert body["visitors"] == len({e.visitor_id for e in traffic})
    assert daily > body["visitors"]  # returning visitors: summing days would overcount


def test_hourly_series_for_two_days_or_less(traffic, tracked_app, owner, client_for):
    body = get(
        client_for(owner), tracked_app, "overview", **{"from": "2026-10-03", "to": "2026-10-04"}
    )

    assert body["interval"] == "hour" and len(body["series"]) == 48
    day_start = START_MS + 2 * 86_400_000
    in_days = ref.in_range(traffic, day_start, day_start + 2 * 86_400_000)
    assert body["pageviews"] == sum(1 for e in in_days if e.type == "pageview")
    first_hour = [e for e in in_days if e.ts < day_start + 3_600_000]
    assert body["series"][0]["t"] == "2026-10-03T00:00:00+00:00"
    assert body["series"][0]["visitors"] == len({e.visitor_id for e in first_hour})


def test_ranges_follow_the_apps_time_zone(traffic, tracked_app, owner, client_for):
    app_services.app_update(app=tracked_app, actor=owner, timezone="Asia/Tokyo")

    body = get(
        client_for(owner), tracked_app, "overview", **{"from": "2026-10-02", "to": "2026-10-02"}
    )

    tokyo_day = START_MS + 86_400_000 - 9 * 3_600_000
    expected = ref.overview(ref.in_range(traffic, tokyo_day, tokyo_day + 86_400_000))
    assert body["pageviews"] == expected["pageviews"] and body["visitors"] == expected["visitors"]


@pytest.mark.parametrize("filters", [{}, {"device": "desktop"}, {"campaign": "Spring"}])
def test_pages_match_the_reference(traffic, tracked_app, owner, client_for, filters):
    body = get(client_for(owner), tracked_app, "pages", **filters)

    events = ref.apply_filters(ref.in_range(traffic, START_MS, END_MS), filters)
    assert body["results"] == ref.pages(events, filters)


def test_technology_matches_the_reference(traffic, tracked_app, owner, client_for):
    body = get(client_for(owner), tracked_app, "technology")

    events = ref.in_range(traffic, START_MS, END_MS)
    assert body["browsers"] == ref.breakdown(events, "browser")
    assert body["os"] == ref.breakdown(events, "os")
    assert body["devices"] == ref.breakdown(events, "device")
    assert body["browsers"][0]["visitors"] >= body["browsers"][-1]["visitors"]


@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
def test_funnel_matches_the_brute_force_reference(traffic, tracked_app, owner, client_for, order):
    from funnels.models import FrozenConfiguration

    frozen = FrozenConfiguration.objects.get(app_ref=tracked_app.pk, epoch=1)
    frozen.data = {**frozen.data, "funnel": {**frozen.data["funnel"], "order": order}}
    frozen.save()

    body = get(client_for(owner), tracked_app, "funnel")

    events = ref.in_range(traffic, START_MS, END_MS)
    counts, medians, _ = ref.funnel(events, 4, 3600 * 1000, order)
    assert [s["visitors"] for s in body["stages"]] == counts
    if order != "any":
        assert [s["median_seconds_from_previous"] for s in body["stages"]] == medians
    assert body["order"] == order and body["unit"] == "visitor"
    first = body["stages"][0]
    assert first["conversion_from_start"] == 1.0 and first["drop_off"] == 0
    second = body["stages"][1]
    assert second["drop_off"] == counts[0] - counts[1]
    assert second["conversion_from_previous"] == round(counts[1] / counts[0], 4)


def test_distinct_funnel_counts_visitors_who_ever_entered_each_stage(
    traffic, tracked_app, owner, client_for
):
    body = get(client_for(owner), tracked_app, "funnel", distinct="true")

    for index, stage in enumerate(body["stages"]):
        entered = {e.visitor_id for e in traffic if index in e.stages}
        assert stage["visitors"] == len(entered)


def test_dropoffs_list_visitors_who_reached_the_previous_stage_only(
    traffic, tracked_app, owner, client_for
):
    body = get(client_for(owner), tracked_app, "funnel/dropoffs", stage="3")

    events = ref.in_range(traffic, START_MS, END_MS)
    _, _, levels = ref.funnel(events, 4, 3600 * 1000, "ordered")
    expected = {v for v, level in levels.items() if level == 2}
    listed = {row["visitor"] for row in body["visitors"]}
    assert expected and listed <= expected
    assert len(listed) == len(body["visitors"]) == min(100, len(expected))
    assert all(row["last_page"] for row in body["visitors"])


def test_sources_attribute_campaigns_and_their_conversions(traffic, tracked_app, owner, client_for):
    body = get(client_for(owner), tracked_app, "sources")

    events = ref.in_range(traffic, START_MS, END_MS)
    table = ref.session_table(events)
    _, _, levels = ref.funnel(events, 4, 3600 * 1000, "ordered")
    spring = {s["visitor"] for s in table.values() if s["campaign"] == "Spring"}
    row = next(c for c in body["campaigns"] if c["name"] == "Spring")
    assert row["visitors"] == len(spring)
    assert row["conversions"] == sum(1 for v in spring if levels.get(v) == 4)
    google = {s["visitor"] for s in table.values() if s["referrer"] == "google.com"}
    assert next(r for r in body["referrers"] if r["name"] == "google.com")["visitors"] == len(
        google
    )


def test_journeys_forward_from_a_page_with_a_left_node(traffic, tracked_app, owner, client_for):
    body = get(client_for(owner), tracked_app, "journeys", start="/", steps="3")

    table = ref.session_table(ref.in_range(traffic, START_MS, END_MS))
    walks = {}
    for s in table.values():
        seq = []
        for v in s["views"]:
            if not seq or seq[-1] != v.path:
                seq.append(v.path)
        if "/" in seq:
            walk = seq[seq.index("/") :][:3]
            walk = [*walk, "(left)"] if len(walk) < 3 else walk
            walks.setdefault(tuple(walk), set()).add(s["visitor"])
    top = sorted(walks.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:20]
    assert body["paths"] == [{"path": list(p), "visitors": len(v)} for p, v in top]
    assert any(node["name"] == "(left)" for node in body["nodes"])
    start_node = next(n for n in body["nodes"] if n["id"] == "0:/")
    assert start_node["visitors"] == len(set().union(*walks.values()))
    assert all({"source", "target", "visitors"} <= set(link) for link in body["links"])


def test_elements_report_hovers_clicks_and_median_hover_time(
    traffic, tracked_app, owner, client_for
):
    body = get(client_for(owner), tracked_app, "elements")

    names = [element["name"] for element in TRACKED_CONFIG["elements"]]
    assert [row["name"] for row in body["results"]] == names
    for row in body["results"]:
        hovers = [
            e
            for e in ref.in_range(traffic, START_MS, END_MS)
            if e.type == "element" and e.name == row["name"]
        ]
        clicks = sorted(e.duration_ms for e in hovers if e.action == "click")
        assert hovers and clicks, "the generated traffic hovers and clicks every element"
        assert (row["hovers"], row["clicks"]) == (len(hovers), len(clicks))
        assert row["click_through_rate"] == round(len(clicks) / len(hovers), 4)
        assert row["median_hover_ms_before_click"] == statistics.median(clicks)


def test_live_shows_visitors_of_the_last_five_minutes(tracked_app, event_store, owner, client_for):
    import time

    now = int(time.time() * 1000)
    generated = synthetic.sample(
        app_id=tracked_app.pk, url=APP_ORIGIN, visitors=8, days=1, seed=3,
        first_day=dt.datetime.fromtimestamp(now / 1000, dt.UTC).date(),
    )  # fmt: skip
    # spread over the last 8 minutes: some inside the 5-minute window, some before it
    recent = [
        dataclasses.replace(e, ts=now - 480_000 + (i * 7_919) % 480_000)
        for i, e in enumerate(generated)
    ]
    event_store.append(recent)

    body = get(client_for(owner), tracked_app, "live")

    fresh = [e for e in recent if now - 5 * 60_000 <= e.ts]
    assert fresh and len(fresh) < len(recent)
    assert body["visitors"] == len({e.visitor_id for e in fresh})
    assert len(body["events"]) == min(20, len(fresh))
    newest = max(fresh, key=lambda e: (e.ts, e.event_id))
    assert body["events"][0]["ts"] == newest.ts
    assert sum(p["visitors"] for p in body["pages"]) == body["visitors"]


def test_csv_export_of_pages(traffic, tracked_app, owner, client_for):
    response = client_for(owner).get(
        f"/api/v1/apps/{tracked_app.pk}/insights/pages", {**RANGE, "format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        'attachment; filename="shop-pages-2026-10-01-2026-10-10.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    expected = ref.pages(ref.in_range(traffic, START_MS, END_MS))
    assert [r["path"] for r in rows] == [r["path"] for r in expected]
    assert [int(r["pageviews"]) for r in rows] == [r["pageviews"] for r in expected]


@pytest.mark.parametrize(
    "name",
    ["overview", "pages", "technology", "sources", "funnel", "funnel/dropoffs", "journeys",
     "elements", "live"],
)  # fmt: skip
def test_every_endpoint_answers_csv(tracked_app, owner, client_for, name):
    response = client_for(owner).get(f"/api/v1/apps/{tracked_app.pk}/insights/{name}?format=csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_an_error_is_json_also_when_csv_was_asked_for(tracked_app, owner, client_for, stranger):
    url = f"/api/v1/apps/{tracked_app.pk}/insights/pages"

    bad = client_for(owner).get(url, {"from": "yesterday", "format": "csv"})
    hidden = client_for(stranger).get(url, {"format": "csv"})

    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert bad.json()["error"]["fields"] == {"from": ["Enter a date as YYYY-MM-DD."]}
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"


def test_the_apps_summary_gives_todays_figures_of_the_apps_a_user_sees(
    tracked_app, event_store, owner, stranger, client_for
):
    import time

    now = int(time.time() * 1000)
    today = dt.datetime.fromtimestamp(now / 1000, dt.UTC).date()
    generated = [
        e for e in synthetic.sample(app_id=tracked_app.pk, first_day=today, days=1, visitors=40)
        if e.ts <= now
    ]  # fmt: skip
    recent = [dataclasses.replace(e, ts=now - 60_000) for e in generated[-5:]]
    event_store.append(generated[:-5] + recent)

    body = client_for(owner).get("/api/v1/apps/summary").json()

    assert body == {"results": [{
        "app": tracked_app.pk,
        "visitors_today": len({e.visitor_id for e in generated}),
        "pageviews_today": sum(e.type == "pageview" for e in generated),
        "visitors_now": len({e.visitor_id for e in recent}),
    }]}  # fmt: skip
    assert client_for(stranger).get("/api/v1/apps/summary").json() == {"results": []}


@pytest.mark.parametrize("role", ["colleague", "stranger", "unverified_colleague"])
def test_only_viewers_get_answers(tracked_app, role, request, client_for):
    client = client_for(request.getfixturevalue(role))

    response = client.get(f"/api/v1/apps/{tracked_app.pk}/insights/overview")

    assert response.status_code == 404


def test_bad_parameters_get_field_errors(tracked_app, owner, client_for):
    client = client_for(owner)
    base = f"/api/v1/apps/{tracked_app.pk}/insights"

    assert "from" in client.get(f"{base}/overview?from=yesterday").json()["error"]["fields"]
    assert "epoch" in client.get(f"{base}/overview?epoch=9").json()["error"]["fields"]
    assert client.get(f"{base}/journeys?direction=sideways").status_code == 400
    assert client.get(f"{base}/funnel/dropoffs?stage=1").status_code == 400


# --- funnel semantics: property-based against exhaustive enumeration ----------------------------

hit_lists = st.lists(
    st.tuples(st.integers(0, 40), st.frozensets(st.integers(0, 3), min_size=1, max_size=2)),
    min_size=1,
    max_size=7,
)


@settings(max_examples=300, deadline=None)
@given(
    hits=hit_lists, window=st.integers(0, 25), order=st.sampled_from(["ordered", "strict", "any"])
)
def test_funnel_levels_and_timings_match_exhaustive_search(hits, window, order):
    sorted_hits = sorted(
        ((ts, f"e{i:02d}", stages) for i, (ts, stages) in enumerate(hits)),
        key=lambda h: (h[0], h[1]),
    )

    reach = visitor_reach(sorted_hits, n=4, window_ms=window, order=order)
    level, tuples = ref.visitor_level(sorted_hits, 4, window, order)

    assert reach.level == level
    if order != "any":
        for k in range(1, level + 1):
            assert tuple(reach.times[k]) == tuples[k]
