"""Realistic generated traffic for an app: what `generate_traffic`, `make demo`, tests and
benchmarks write into the event store.

People arrive day by day with a daily and weekly rhythm in the app's time zone; each has a
browser (real User-Agent strings, parsed by ingest), a screen and a language, comes from a
referrer or a campaign, and walks sessions of page views over the site's ~100 pages (Zipf: a few
pages get most views), with time on page, hovers on the tracked elements and now and then a
custom event. About a third of sessions head for the funnel and drop off stage by stage. When
the app accepts first-party visitor ids, a fifth of each day's people are returning ones.

Deterministic: a day's events depend only on (seed, app, day, that day's volume), so generating
overlapping ranges twice stores nothing twice (the store ignores events it already has).
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from operator import itemgetter
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from eventstore import StoredEvent
from ingest.constants import SESSION_GAP_MS
from ingest.enrichment import declared_visitor_hash, session_hash, visitor_hash

from .clients import Client, clients
from .shop import demo_config
from .site import CUSTOM_EVENTS, Page, Site

# Local hours 0-23 and weekdays Monday-Sunday: relative volumes.
HOURLY = [0.22, 0.14, 0.09, 0.07, 0.07, 0.11, 0.24, 0.45, 0.7, 0.9, 1.0, 1.0,
          0.94, 0.96, 0.97, 0.92, 0.86, 0.84, 0.88, 0.98, 1.0, 0.86, 0.6, 0.38]  # fmt: skip
WEEKLY = [1.0, 1.06, 1.05, 1.0, 0.93, 0.68, 0.62]
RETURNING = 0.2  # share of a day's people who came on an earlier day (first-party ids only)
SESSIONS = [(1, 0.85), (2, 0.12), (3, 0.03)]  # sessions per person and day
FUNNEL_SHARE = 0.35  # sessions that head for the funnel
CONTINUE = [0.85, 0.6, 0.45, 0.38, 0.32]  # chance to go on to the next stage (then 0.3)
CAMPAIGN_SHARE = 0.12  # sessions landing from a campaign link
MAX_PAGES = 12

_ORDER = ("app_id", "epoch", "event_id", "ts", "type", "visitor_id", "session_id", "path",
          "query", "title", "referrer", "selector", "name", "action", "duration_ms", "props",
          "browser", "os", "device", "screen", "lang", "campaign", "utm", "stages")  # fmt: skip
assert tuple(f.name for f in fields(StoredEvent)) == _ORDER, "StoredEvent's fields changed"
assert not hasattr(StoredEvent, "__post_init__"), "StoredEvent checks its fields now"


def _constructor() -> Callable[..., StoredEvent]:
    """`StoredEvent(*every field in order)`, the same object, without the frozen dataclass's
    `__init__`, which sets each field through `object.__setattr__` (a third of the generator's
    time): a function that sets the slots directly, one line per field, as dataclasses write
    their `__init__`."""
    names = {f"set_{name}": getattr(StoredEvent, name).__set__ for name in _ORDER}
    lines = [f"    set_{name}(event, {name})" for name in _ORDER]
    source = f"def event({', '.join(_ORDER)}):\n    event = new(StoredEvent)\n"
    source += "\n".join(lines) + "\n    return event\n"
    scope = {"new": object.__new__, "StoredEvent": StoredEvent, **names}
    exec(source, scope)  # our own source, built from the field names above
    return scope["event"]


_event = _constructor()
# where a row (`DayRows.rows`) holds the time, the visitor and the session
TS, _VISITOR, _SESSION = (_ORDER.index(name) for name in ("ts", "visitor_id", "session_id"))


@dataclass(frozen=True)
class Day:
    """One generated day: its events, and how many visitors and sessions they hold."""

    day: dt.date
    events: list[StoredEvent]
    visitors: int
    sessions: int


def generate(
    site: Site,
    *,
    first_day: dt.date,
    days: int,
    events: int | None = None,
    visitors: int | None = None,
    seed: int = 7,
) -> Iterator[Day]:
    """`days` days from `first_day` (local dates in the site's time zone), one `Day` at a time,
    planned by `plan`."""
    dates = [first_day + dt.timedelta(days=offset) for offset in range(days)]
    people = plan(site, dates, events=events, visitors=visitors, seed=seed)
    for date, count in zip(dates, people, strict=True):
        yield generate_day(site, date, count, seed=seed)


def sample(
    *,
    app_id: int,
    first_day: dt.date,
    days: int,
    visitors: int | None = None,
    events: int | None = None,
    epoch: int = 1,
    url: str = "https://shop.acme.test",
    config: dict | None = None,
    timezone: str = "UTC",
    first_party_ids: bool = False,
    seed: int = 7,
) -> list[StoredEvent]:
    """Generated events of a site that need no app in the database (by default the demo shop's
    configuration at `url`): what tests and benchmarks store."""
    site = Site(
        app_id=app_id,
        epoch=epoch,
        url=url,
        config=config or demo_config(base=urlsplit(url).path),
        timezone=timezone,
        first_party_ids=first_party_ids,
    )
    generated = generate(
        site, first_day=first_day, days=days, events=events, visitors=visitors, seed=seed
    )
    return [event for day in generated for event in day.events]


def plan(
    site: Site,
    dates: list[dt.date],
    *,
    events: int | None = None,
    visitors: int | None = None,
    seed: int = 7,
) -> list[int]:
    """How many people come on each date: about `events` events, or exactly `visitors` people,
    in all, following the weekly rhythm. With `events`, a date's people depend on the average
    volume only (not on the other dates), so that generating windows that overlap agrees."""
    if (events is None) == (visitors is None):
        raise ValueError("give either events or visitors")
    weights = [_volume(site, date, seed) for date in dates]
    if events is not None:
        per_day = events / len(dates) / events_per_person(site)
        return [round(per_day * weight) for weight in weights]
    quotas = [visitors * weight / sum(weights) for weight in weights]
    shares = [int(quota) for quota in quotas]
    by_remainder = sorted(range(len(dates)), key=lambda i: shares[i] - quotas[i])
    for i in by_remainder[: visitors - sum(shares)]:  # largest remainders: the sum is exact
        shares[i] += 1
    return shares


def events_per_person(site: Site) -> float:
    """How many events a person makes on this site, on an average day (measured on a sample)."""
    events = _DayGenerator(site, dt.date(2026, 1, 5), seed=0).run(400)
    return max(1.0, len(events) / 400 * sum(WEEKLY) / len(WEEKLY))


def generate_day(
    site: Site, day: dt.date, people: int, *, seed: int = 7, until_ms: int | None = None
) -> Day:
    """The events of `people` people on one local day: the same for the same arguments; with
    `until_ms`, those that happened by then (a later call adds the rest)."""
    rows = generate_day_rows(site, day, people, seed=seed, until_ms=until_ms)
    return Day(day, [_event(*row) for row in rows.rows], rows.visitors, rows.sessions)


@dataclass(frozen=True)
class DayRows:
    """`Day`, its events as tuples of StoredEvent's fields in order (`EventBatch.of_rows`):
    what bulk imports store, without building an object per event."""

    day: dt.date
    rows: list[tuple]
    visitors: int
    sessions: int


def generate_day_rows(
    site: Site, day: dt.date, people: int, *, seed: int = 7, until_ms: int | None = None
) -> DayRows:
    """`generate_day`'s events, as rows (the same values, in the same order)."""
    rows = _DayGenerator(site, day, seed=seed).run(people)
    if until_ms is not None and rows and rows[-1][TS] > until_ms:
        rows = [row for row in rows if row[TS] <= until_ms]
    visitors = len(set(map(itemgetter(_VISITOR), rows)))
    return DayRows(day, rows, visitors, len(set(map(itemgetter(_SESSION), rows))))


def _volume(site: Site, day: dt.date, seed: int) -> float:
    """A day's volume relative to the average: its weekday's, give or take 10 %."""
    noise = 0.9 + 0.2 * _unit(seed, site.app_id, day.toordinal(), "volume")
    return WEEKLY[day.weekday()] * noise


def _unit(*key) -> float:
    """A number in [0, 1) determined by `key`."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest) / 2**64


class _DayGenerator:
    def __init__(self, site: Site, day: dt.date, *, seed: int) -> None:
        self.site, self.day, self.seed = site, day, seed
        self.rng = random.Random(f"{seed}:{site.app_id}:{day.isoformat()}")
        self.events: list[tuple] = []  # StoredEvent's fields, in order
        self.counter = 0
        h = hashlib.blake2b(f"{seed}:{site.app_id}:{day}".encode(), digest_size=10).hexdigest()
        self.id_prefix = f"{h[:8]}-{h[8:12]}-4{h[12:15]}-a{h[15:18]}-"
        self.clients, client_weights = clients()
        self.client_cum = list(itertools.accumulate(client_weights))
        self.page_cum = list(itertools.accumulate(site.weights))
        self.referrer_cum = list(itertools.accumulate(w for _, w in site.referrers))
        self.landing_cum = list(itertools.accumulate(w for _, w in site.landings))
        self.hours = _hour_starts(day, ZoneInfo(site.timezone))
        self.day_end = self.hours[-1][1] + 3_600_000
        self.hour_cum = list(itertools.accumulate(HOURLY[hour] for hour, _ in self.hours))

    def run(self, people: int) -> list[tuple]:
        returning = round(people * RETURNING) if self.site.first_party_ids else 0
        for k in range(people - returning):
            self._person((self.day.toordinal(), k))
        for k in range(returning):
            self._person(self._earlier_person(k))
        self.events.sort(key=itemgetter(TS))
        return self.events

    # -- people ------------------------------------------------------------------------------

    def _earlier_person(self, k: int) -> tuple[int, int]:
        """Someone who first came on one of the 28 days before (their key, as on that day)."""
        back = 1 + int(_unit(self.seed, self.site.app_id, self.day.toordinal(), "back", k) * 28)
        first = self.day.toordinal() - back
        return (first, int(_unit(self.seed, self.site.app_id, first, "who", k) * 50))

    def _person(self, key: tuple[int, int]) -> None:
        site, rng = self.site, self.rng
        pick = _unit(self.seed, site.app_id, key)
        client = self.clients[bisect.bisect(self.client_cum, pick * self.client_cum[-1])]
        person = f"p{self.seed}-{key[0]}-{key[1]}"
        if site.first_party_ids:
            visitor = declared_visitor_hash(app_id=site.app_id, visitor_id=person, secret="demo")
        else:
            salt = f"demo-{self.seed}-{self.day.isoformat()}"
            visitor = visitor_hash(
                salt=salt, app_id=site.app_id, ip=person, user_agent=client.user_agent
            )
        screen = client.screens[int(pick * 1e6) % len(client.screens)]
        lang = client.languages[int(pick * 1e9) % len(client.languages)]
        ts, draw = self._start_time(), rng.random()
        count = next(n for n, share in _cumulative(SESSIONS) if draw < share)
        for _ in range(count):
            end = _Session(self, client, visitor, screen, lang, ts).run()
            ts = end + SESSION_GAP_MS + int(rng.expovariate(1 / 7_200_000))
            if ts >= self.day_end:  # tomorrow is another day (and, without ids, visitor)
                break

    def _start_time(self) -> int:
        hour = bisect.bisect(self.hour_cum, self.rng.random() * self.hour_cum[-1])
        return self.hours[hour][1] + int(self.rng.random() * 3_600_000)

    # -- choices -----------------------------------------------------------------------------

    def page(self) -> Page:
        return self.site.pages[bisect.bisect(self.page_cum, self.rng.random() * self.page_cum[-1])]

    def referrer(self) -> str:
        index = bisect.bisect(self.referrer_cum, self.rng.random() * self.referrer_cum[-1])
        return self.site.referrers[index][0]

    def landing(self) -> Page:
        index = bisect.bisect(self.landing_cum, self.rng.random() * self.landing_cum[-1])
        return self.site.landings[index][0]

    def event_id(self) -> str:
        """A UUID (version 4 layout): the day's prefix and a counter, unique in the app."""
        self.counter += 1
        return f"{self.id_prefix}{self.counter:012x}"


class _Session:
    """One visit: pages, time on them, hovers, and perhaps the funnel."""

    def __init__(
        self, day: _DayGenerator, client: Client, visitor: str, screen: int, lang: str, ts: int
    ) -> None:
        self.day, self.rng, self.site = day, day.rng, day.site
        self.client, self.visitor, self.screen, self.lang = client, visitor, screen, lang
        self.ts = ts
        self.session = session_hash(visitor, ts)
        self.page: Page | None = None

    def run(self) -> int:
        """Emit the session's events; return the time of its last one."""
        rng, day = self.rng, self.day
        if day.site.landings and rng.random() < CAMPAIGN_SHARE:
            self.view(day.landing(), referrer=day.referrer())
        if rng.random() < FUNNEL_SHARE and self.site.stage_actions:
            self.funnel()
        elif self.page is None:
            self.view(day.page(), referrer=day.referrer())
        pages = 1
        while pages < MAX_PAGES and rng.random() < 0.58:
            self.view(day.page())
            pages += 1
        self.leave()
        return self.ts

    def funnel(self) -> None:
        rng, actions = self.rng, self.site.stage_actions
        for position, action in enumerate(actions):
            chance = CONTINUE[min(position, len(CONTINUE) - 1)] if position else 1.0
            if rng.random() >= chance:
                return
            if position and self.site.order != "strict" and rng.random() < 0.25:
                self.view(self.day.page())
            if action.kind == "page":
                page = action.pages[rng.randrange(len(action.pages))]
                self.view(page, referrer=self.day.referrer() if self.page is None else None)
            else:
                if self.page is None:
                    self.view(self.day.page(), referrer=self.day.referrer())
                self.ts += int(rng.uniform(2_000, 90_000))
                self.action(action.kind, action.value, action.stages)

    def view(self, page: Page, *, referrer: str | None = None) -> None:
        if self.page is not None:
            self.leave()
            self.ts += int(self.rng.uniform(150, 1_500))
            referrer = self.page.path  # internal navigation: ingest keeps the previous path
        self.page = page
        c, site = self.client, self.site
        self.day.events.append(
            (
                site.app_id, site.epoch, self.day.event_id(), self.ts, "pageview", self.visitor,
                self.session, page.path, page.query, page.title, referrer or "", "", "", "", 0,
                None, c.browser, c.os, c.device, self.screen, self.lang, page.campaign, page.utm,
                page.stages,
            )
        )  # fmt: skip
        self.dwell = min(int(self.rng.lognormvariate(9.9, 1.1)), 900_000)  # median ~20 s
        if self.site.elements and self.rng.random() < 0.14:
            self.hover()
        if self.rng.random() < 0.03:
            name, props = CUSTOM_EVENTS[self.rng.randrange(len(CUSTOM_EVENTS))]
            self.other(self.ts + self.dwell // 2, "event", "", "", name=name, props=dict(props))

    def leave(self) -> None:
        if self.page is not None:
            self.ts += self.dwell
            c, site, page = self.client, self.site, self.page
            self.day.events.append(
                (
                    site.app_id, site.epoch, self.day.event_id(), self.ts, "leave", self.visitor,
                    self.session, page.path, page.query, "", "", "", "", "", self.dwell, None,
                    c.browser, c.os, c.device, None, "", "", None, (),
                )
            )  # fmt: skip

    def hover(self) -> None:
        name = self.site.elements[self.rng.randrange(len(self.site.elements))]
        action = "click" if self.rng.random() < 0.35 else "leave"
        hover = min(int(self.rng.lognormvariate(7.0, 0.8)), 60_000)  # median ~1.1 s
        at = self.ts + min(self.dwell, 5_000)
        self.other(at, "element", "", "", name=name, action=action, duration_ms=hover)

    def action(self, kind: str, value: str, stages: tuple[int, ...]) -> None:
        """A funnel click (on the current page) or custom event."""
        if kind == "click":
            path, query = self.page.path, self.page.query
            self.other(self.ts, "click", path, query, selector=value, stages=stages)
        else:
            self.other(self.ts, "event", "", "", name=value, props={"plan": "pro"}, stages=stages)

    def other(self, ts, kind, path, query, *, selector="", name="", action="", duration_ms=0,
              props=None, stages=()) -> None:  # fmt: skip
        """A click, element or custom event (the rarer kinds)."""
        c, site = self.client, self.site
        self.day.events.append(
            (
                site.app_id, site.epoch, self.day.event_id(), ts, kind, self.visitor,
                self.session, path, query, "", "", selector, name, action, duration_ms, props,
                c.browser, c.os, c.device, None, "", "", None, stages,
            )
        )  # fmt: skip


def _cumulative(shares: list[tuple[int, float]]) -> list[tuple[int, float]]:
    total, out = 0.0, []
    for value, share in shares:
        total += share
        out.append((value, total))
    out[-1] = (out[-1][0], 1.0)
    return out


def _hour_starts(day: dt.date, zone: ZoneInfo) -> list[tuple[int, int]]:
    """(local hour, UTC ms of its start) for every hour the local day has (23 to 25)."""
    start = dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    hours, moment = [], start
    while moment < end:
        hours.append((moment.astimezone(zone).hour, int(moment.timestamp() * 1000)))
        moment += dt.timedelta(hours=1)
    return hours
