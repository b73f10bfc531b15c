"""Writes of the demo app: generated traffic for an app, and the demo organization and shop."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from accounts.models import User
from apps_registry import services as app_services
from apps_registry.models import App
from datalab.errors import DomainError
from eventstore import get_store
from funnels import services as funnel_services
from funnels.selectors import frozen_config
from orgs import services as org_services
from tokens import services as token_services

from . import traffic, workers
from .constants import DEMO_APP, DEMO_COLLEAGUE, DEMO_OWNER, DEMO_PASSWORD, DEMO_PATH
from .days import IMPORT_GROUP, DayWritten, write_days
from .selectors import demo_app
from .shop import demo_config
from .site import Site

MAX_DAYS = 366


class TrafficRefused(DomainError):
    """Traffic cannot be generated for this app, or not that much (the message says why)."""

    status_code = 409
    default_code = "traffic_refused"


@dataclass(frozen=True)
class Generated:
    """What `traffic_generate` did."""

    app: App
    epoch: int
    first_day: dt.date
    last_day: dt.date
    new: int
    duplicates: int
    visitors: int
    sessions: int
    seconds: float

    def summary(self) -> str:
        rate = (self.new + self.duplicates) / self.seconds if self.seconds else 0
        again = f" ({self.duplicates:,} were stored already)" if self.duplicates else ""
        return (
            f'wrote {self.new:,} events{again} for app {self.app.pk} "{self.app.name}" epoch '
            f"{self.epoch}: {self.visitors:,} daily visitors, {self.sessions:,} sessions, "
            f"{self.first_day} to {self.last_day}, in {self.seconds:.1f} s ({rate:,.0f} events/s)"
        )


def site_of(app: App) -> Site:
    """The site traffic is generated for: the app's URL and its current epoch's frozen
    configuration. Refuses an app without a token (its configuration is not frozen)."""
    config = frozen_config(app.pk, app.epoch) if app.locked else None
    if config is None:
        raise TrafficRefused(
            f'App {app.pk} "{app.name}" has no token: issue one first (it freezes the '
            "configuration that traffic is generated for).",
            code="app_not_locked",
        )
    return Site(
        app_id=app.pk,
        epoch=app.epoch,
        url=app.url,
        config=config,
        timezone=app.timezone,
        first_party_ids=app.allow_visitor_id,
    )


def traffic_generate(
    *,
    app: App,
    events: int | None = None,
    visitors: int | None = None,
    days: int = 30,
    seed: int = 7,
    end: dt.date | None = None,
    jobs: int = 1,
    on_day: Callable[[DayWritten], None] | None = None,
) -> Generated:
    """Generate `days` days of traffic ending on `end` (default: today in the app's time zone)
    for the app's current epoch, with about `events` events or `visitors` visitors, and store
    it through the event store. `jobs` processes generate days in parallel. Generating the same
    days again stores nothing twice."""
    if not 1 <= days <= MAX_DAYS:
        raise TrafficRefused(f"days must be 1 to {MAX_DAYS}.", code="days_out_of_range")
    site = site_of(app)
    end = end or dt.datetime.now(ZoneInfo(app.timezone)).date()
    first = end - dt.timedelta(days=days - 1)
    dates = [first + dt.timedelta(days=offset) for offset in range(days)]
    people = traffic.plan(site, dates, events=events, visitors=visitors, seed=seed)
    per_person = traffic.events_per_person(site)
    _check_space(round(sum(people) * per_person))
    started = time.perf_counter()
    chunks = day_chunks(list(zip(dates, people, strict=True)), per_person, jobs)
    written = list(_write_days(site, chunks, seed, jobs, on_day or (lambda _: None)))
    return Generated(
        app=app,
        epoch=site.epoch,
        first_day=first,
        last_day=end,
        new=sum(day.new for day in written),
        duplicates=sum(day.duplicates for day in written),
        visitors=sum(day.visitors for day in written),
        sessions=sum(day.sessions for day in written),
        seconds=time.perf_counter() - started,
    )


def _check_space(events: int) -> None:
    store = get_store()
    needed, free = events * store.bytes_per_event, store.free_bytes()
    if store.bytes_per_event and free is not None and needed * 1.2 > free:
        raise TrafficRefused(
            f"About {events:,} events need about {needed / 1e9:.1f} GB in the event store, "
            f"and its disk has {free / 1e9:.1f} GB free: ask for fewer.",
            code="not_enough_space",
        )


def day_chunks(
    plan: list[tuple[dt.date, int]], per_person: float, jobs: int
) -> list[list[tuple[dt.date, int]]]:
    """Consecutive days stored together, in the order the processes take them: about
    IMPORT_GROUP events at most (fewer, larger transactions rewrite fewer pages of the
    per-visitor tables), and with several processes, no more than a `2 * jobs`-th of what is
    left, so that the chunks shrink towards the end, down to one day, and the processes finish
    together instead of one writing the last large chunk alone."""
    left = sum(people for _, people in plan) * per_person
    chunks: list[list[tuple[dt.date, int]]] = []
    events = most = 0.0
    for day, people in plan:
        size = people * per_person
        if not chunks or events + size > most:
            chunks.append([])
            events = 0.0
            most = IMPORT_GROUP if jobs <= 1 else min(IMPORT_GROUP, left / (2 * jobs))
        chunks[-1].append((day, people))
        events += size
        left -= size
    return chunks


def _write_days(
    site: Site,
    chunks: list[list[tuple[dt.date, int]]],
    seed: int,
    jobs: int,
    on_day: Callable[[DayWritten], None],
) -> Iterable[DayWritten]:
    """Generate and store the chunks of days. With `jobs` > 1, this process writes chunks too,
    next to `jobs - 1` others, and no core waits on a parent that only collects. The others are
    forked where the platform can: they start at once, with Django set up and this process's
    settings (the event store forgets the parent's connections in a forked child, and the
    children never use the ORM); else spawned, which costs each about a second of CPU to set
    Django up again."""
    if jobs <= 1 or len(chunks) == 1:
        for chunk in chunks:
            written = write_days(site, chunk, seed)
            on_day(written)
            yield written
        return
    todo = list(chunks)
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs - 1, **_pool_start()) as pool:
        in_flight: set[concurrent.futures.Future] = set()
        while todo or in_flight:
            while len(todo) > 1 and len(in_flight) < 2 * (jobs - 1):  # one queued per process
                in_flight.add(pool.submit(workers.write_days, site, todo.pop(0), seed))
            if todo:  # the next one here
                done = [write_days(site, todo.pop(0), seed)]
            else:
                concurrent.futures.wait(in_flight, return_when=concurrent.futures.FIRST_COMPLETED)
                done = []
            finished = {future for future in in_flight if future.done()}
            in_flight -= finished
            for written in done + [future.result() for future in finished]:
                on_day(written)
                yield written


def _pool_start() -> dict:
    """How `_write_days` starts its processes: forked, or spawned with Django set up anew."""
    if "fork" in multiprocessing.get_all_start_methods():
        return {"mp_context": multiprocessing.get_context("fork")}
    stores = {
        "EVENT_STORE": settings.EVENT_STORE,
        "EVENT_STORE_SQLITE_PATH": settings.EVENT_STORE_SQLITE_PATH,
        "CASSANDRA": settings.CASSANDRA,
    }
    return {
        "mp_context": multiprocessing.get_context("spawn"),
        "initializer": workers.start,
        "initargs": (stores,),
    }


# -- the demo -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    """The demo organization's people and app."""

    owner: User
    colleague: User
    app: App
    created: bool


def demo_setup(*, public_url: str, timezone: str = "UTC") -> Demo:
    """The demo organization (owner and colleague), its public app "Demo shop" at
    `public_url`/demo/ with a four-stage funnel, a campaign and two tracked elements, and its
    token. Idempotent: what exists is kept."""
    with transaction.atomic():
        owner = _demo_user(*DEMO_OWNER)
        colleague = _demo_user(*DEMO_COLLEAGUE)
        app = demo_app()
        created = app is None
        if created:
            app = _demo_app(owner, url=f"{public_url.rstrip('/')}{DEMO_PATH}", timezone=timezone)
    return Demo(owner=owner, colleague=colleague, app=app, created=created)


def _demo_user(email: str, first_name: str, last_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = org_services.user_create_verified(
            email=email, password=DEMO_PASSWORD, first_name=first_name, last_name=last_name
        )
    return user


def _demo_app(owner: User, *, url: str, timezone: str) -> App:
    app = app_services.app_create(
        owner=owner,
        name=DEMO_APP,
        url=url,
        tags=["demo", "shop"],
        description="A small shop served by datalab itself, with generated traffic.",
        is_public=True,
        timezone=timezone,
        allow_visitor_id=False,
    )
    base = urlsplit(url).path
    funnel_services.config_update(app=app, actor=owner, data=demo_config(base=base), version=1)
    token_services.token_issue(app=app, actor=owner)
    app.refresh_from_db()
    return app
