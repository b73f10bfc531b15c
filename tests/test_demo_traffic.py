"""Generated traffic: deterministic, what ingest itself would store, realistic enough that every
insight has something to show, and written idempotently by `generate_traffic`."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from demo import services, traffic
from demo.clients import clients
from demo.site import Site
from funnels.matching import CompiledConfig
from ingest import services as ingest
from ingest.enrichment import client_of
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2026, 11, 2)  # a Monday


def site(**overrides) -> Site:
    fields = {"app_id": 9, "epoch": 1, "url": APP_ORIGIN, "config": TRACKED_CONFIG, **overrides}
    return Site(**fields)


def events_of(generated) -> list:
    return [event for day in generated for event in day.events]


def test_the_same_seed_gives_the_same_events_and_another_seed_others():
    first = traffic.sample(app_id=3, first_day=FIRST_DAY, days=3, visitors=200, seed=11)
    again = traffic.sample(app_id=3, first_day=FIRST_DAY, days=3, visitors=200, seed=11)
    other = traffic.sample(app_id=3, first_day=FIRST_DAY, days=3, visitors=200, seed=12)

    assert first == again and len(first) > 1000
    assert {e.event_id for e in first}.isdisjoint({e.event_id for e in other})
    assert len({e.event_id for e in first}) == len(first)


def test_a_days_rows_are_its_events_field_by_field():
    """What bulk imports store (rows, no object per event) is what `generate_day` gives."""
    shop = site(first_party_ids=True)
    for day in (FIRST_DAY, FIRST_DAY + dt.timedelta(days=5)):
        events = traffic.generate_day(shop, day, 300, seed=5, until_ms=None)
        rows = traffic.generate_day_rows(shop, day, 300, seed=5)
        cut = events.events[len(events.events) // 2].ts
        assert [dataclasses.astuple(event) for event in events.events] == rows.rows
        assert (rows.visitors, rows.sessions) == (events.visitors, events.sessions) != (0, 0)
        assert traffic.generate_day_rows(shop, day, 300, seed=5, until_ms=cut).rows == [
            dataclasses.astuple(event) for event in events.events if event.ts <= cut
        ]


def test_a_day_is_the_same_whatever_window_it_is_generated_in():
    shop = site()
    week = {
        day.day: day.events
        for day in traffic.generate(shop, first_day=FIRST_DAY, days=7, events=7000)
    }
    moved = FIRST_DAY + dt.timedelta(days=3)
    later = {
        day.day: day.events for day in traffic.generate(shop, first_day=moved, days=7, events=7000)
    }

    shared = sorted(set(week) & set(later))
    assert len(shared) == 4 and all(week[day] == later[day] for day in shared)


def _client_message(event, shop: Site) -> dict:
    """What the snippet sent for a generated event (the URL and referrer ingest reduces)."""
    url = f"{shop.origin}{event.path}" + (f"?{event.query}" if event.query else "")
    message = {"id": event.event_id, "type": event.type, "ts": event.ts}
    if event.type == "pageview":
        internal = event.referrer.startswith("/")
        referrer = f"{shop.origin}{event.referrer}" if internal else event.referrer
        message.update(
            url=url,
            title=event.title,
            referrer=f"https://{referrer}/" if referrer and not internal else referrer,
            screen=event.screen,
            lang=event.lang,
        )
    elif event.type == "leave":
        message.update(url=url, duration=event.duration_ms)
    elif event.type == "click":
        message.update(url=url, selector=event.selector)
    elif event.type == "element":
        message.update(name=event.name, action=event.action, duration=event.duration_ms)
    else:
        message.update(name=event.name, props=event.props)
    return message


def test_generated_events_are_what_ingest_stores_for_what_the_snippet_would_send():
    shop = site(timezone="Europe/Berlin")
    generated = events_of(traffic.generate(shop, first_day=FIRST_DAY, days=2, visitors=150))
    agents = {(c.browser, c.os, c.device): c.user_agent for c in clients()[0]}
    compiled = CompiledConfig.from_dict(TRACKED_CONFIG)

    for event in generated:
        connection = ingest.Connection(
            app_id=shop.app_id,
            epoch=shop.epoch,
            app_host=shop.host,
            compiled=compiled,
            client=client_of(agents[(event.browser, event.os, event.device)]),
            visitor_id=event.visitor_id,
            allow_visitor_id=False,
        )
        stored, rejected = ingest.build_events(
            connection, [_client_message(event, shop)], now_ms=event.ts
        )
        assert rejected == [], (event, rejected)
        (expected,) = stored
        assert dataclasses.replace(expected, session_id=event.session_id) == event


def test_traffic_walks_the_funnel_and_drops_off_at_every_stage():
    generated = traffic.sample(app_id=3, first_day=FIRST_DAY, days=7, visitors=3000)
    reached = collections.Counter()
    for visitor_stages in _stages_by_visitor(generated).values():
        level = 0
        while level in visitor_stages:
            level += 1
        reached.update(range(level))

    counts = [reached[stage] for stage in range(4)]
    assert all(count > 0 for count in counts)
    assert counts == sorted(counts, reverse=True) and len(set(counts)) == 4, counts


def _stages_by_visitor(events) -> dict[str, set[int]]:
    stages = collections.defaultdict(set)
    for event in events:
        stages[event.visitor_id].update(event.stages)
    return stages


def test_traffic_has_a_daily_and_weekly_rhythm_in_the_apps_time_zone():
    zone = "America/Los_Angeles"
    generated = traffic.sample(app_id=3, first_day=FIRST_DAY, days=14, visitors=6000, timezone=zone)
    pageviews = [e for e in generated if e.type == "pageview"]
    local = [dt.datetime.fromtimestamp(e.ts / 1000, ZoneInfo(zone)) for e in pageviews]
    by_hour = collections.Counter(moment.hour for moment in local)
    by_weekday = collections.Counter(moment.weekday() for moment in local)

    assert by_hour[11] > 5 * by_hour[3]  # late morning against the middle of the night
    assert min(by_weekday[d] for d in range(5)) > max(by_weekday[5], by_weekday[6])


def test_the_mix_of_pages_browsers_referrers_and_campaigns_is_wide():
    generated = traffic.sample(app_id=3, first_day=FIRST_DAY, days=7, visitors=3000)
    pageviews = [e for e in generated if e.type == "pageview"]
    paths = collections.Counter(e.path for e in pageviews)

    assert len(paths) >= 90
    top = paths.most_common()
    assert top[0][1] > 20 * top[-1][1]  # a long tail
    assert len({e.browser for e in generated}) >= 8
    assert {"desktop", "mobile", "tablet"} <= {e.device for e in generated}
    assert len({e.referrer for e in pageviews if e.referrer and e.referrer[0] != "/"}) >= 8
    assert "Spring" in {e.campaign for e in pageviews}
    assert {"pageview", "leave", "click", "element", "event"} == {e.type for e in generated}


@pytest.mark.parametrize("first_party_ids", [True, False])
def test_people_come_back_on_later_days_only_when_the_app_accepts_first_party_ids(
    first_party_ids,
):
    generated = traffic.sample(
        app_id=3, first_day=FIRST_DAY, days=10, visitors=3000, first_party_ids=first_party_ids
    )
    session_start = {}
    for event in sorted(generated, key=lambda e: e.ts):
        session_start.setdefault((event.visitor_id, event.session_id), event.ts // 86_400_000)
    days_of = collections.defaultdict(set)
    for (visitor, _), day in session_start.items():
        days_of[visitor].add(day)
    returning = sum(1 for days in days_of.values() if len(days) > 1)

    if first_party_ids:
        assert returning > 0.05 * len(days_of)
    else:  # daily visitor hashes: a person on another day is another visitor
        assert returning < 0.01 * len(days_of)  # (a second visit just after midnight)


# -- generate_traffic --------------------------------------------------------------------------


def test_generate_traffic_stores_the_days_once_however_often_it_runs(
    tracked_app, event_store, capsys
):
    args = ["--app", str(tracked_app.pk), "--events", "6000", "--days", "5", "--end", "2026-11-20"]
    call_command("generate_traffic", *args)
    first = capsys.readouterr().out.strip().splitlines()[-1]
    stored = event_store.count_events(tracked_app.pk, tracked_app.epoch)
    call_command("generate_traffic", *args)
    second = capsys.readouterr().out.strip().splitlines()[-1]

    assert 5000 < stored < 7000
    assert first.startswith(f"generate_traffic: wrote {stored:,} events for app {tracked_app.pk}")
    assert "2026-11-16 to 2026-11-20" in first and "visitors" in first and "events/s" in first
    assert second.startswith(f"generate_traffic: wrote 0 events ({stored:,} were stored already)")
    assert event_store.count_events(tracked_app.pk, tracked_app.epoch) == stored


def test_several_processes_store_exactly_what_one_does(
    tracked_app, event_store, settings, tmp_path
):
    one = services.traffic_generate(app=tracked_app, visitors=400, days=4, end=FIRST_DAY, jobs=1)
    by_one = sorted((e.ts, e.event_id) for e in event_store.events(tracked_app.pk, 1))
    settings.EVENT_STORE_SQLITE_PATH = tmp_path / "other.sqlite3"
    from eventstore import get_store, reset_store

    reset_store()
    two = services.traffic_generate(app=tracked_app, visitors=400, days=4, end=FIRST_DAY, jobs=2)
    by_two = sorted((e.ts, e.event_id) for e in get_store().events(tracked_app.pk, 1))

    assert one.new == two.new == len(by_one) and by_one == by_two


def test_generate_traffic_refuses_an_app_without_a_token(owner, event_store):
    from apps_registry import services as app_services

    app = app_services.app_create(owner=owner, name="Blog", url=APP_ORIGIN, tags=["web"])
    with pytest.raises(CommandError, match=r'App \d+ "Blog" has no token: issue one first'):
        call_command("generate_traffic", "--app", str(app.pk), "--events", "100")
    assert event_store.count_events(app.pk, app.epoch) == 0


def test_generate_traffic_refuses_more_than_the_disk_holds_before_writing(tracked_app, event_store):
    with pytest.raises(CommandError, match=r"GB free: ask for fewer"):
        call_command("generate_traffic", "--app", str(tracked_app.pk), "--events", str(10**13))
    assert event_store.count_events(tracked_app.pk, tracked_app.epoch) == 0


def test_generate_traffic_says_what_is_wrong_with_its_arguments(tracked_app):
    with pytest.raises(CommandError, match="No app 999999"):
        call_command("generate_traffic", "--app", "999999")
    with pytest.raises(CommandError, match="days must be 1 to 366"):
        call_command("generate_traffic", "--app", str(tracked_app.pk), "--days", "400")
