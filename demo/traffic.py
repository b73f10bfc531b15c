"""Realistic synthetic traffic, for tests (reference checks) and benchmarks (1M-10M events).

Visitors arrive over `days`, in sessions of page views over ~100 routes, with referrers,
campaigns, browsers, clicks, custom events, hovers on tracked elements and time on page; a share
of them walks the funnel and drops off along the way. Stages are matched with the same compiled
configuration ingest uses.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

from eventstore import StoredEvent
from funnels.matching import CompiledConfig

ROUTES = [f"/docs/page-{i}" for i in range(60)] + [f"/blog/post-{i}" for i in range(30)]
ROUTES += ["/", "/pricing", "/about", "/signup", "/checkout", "/contact"]
ROUTES += [f"/products/{i}" for i in range(4)]
REFERRERS = ["", "", "", "google.com", "news.ycombinator.com", "twitter.com", "github.com"]
CLIENTS = [
    ("Chrome", "Windows", "desktop"),
    ("Chrome", "Mac OS X", "desktop"),
    ("Firefox", "Linux", "desktop"),
    ("Mobile Safari", "iOS", "mobile"),
    ("Chrome Mobile", "Android", "mobile"),
    ("Safari", "iOS", "tablet"),
]
CAMPAIGN_QUERIES = ["utm_source=newsletter&utm_campaign=spring", "utm_source=ads&utm_medium=cpc"]

# The demo shop's configuration, which this traffic walks: tests and benchmarks share it.
DEMO_CONFIG = {
    "funnel": {
        "order": "ordered",
        "window_seconds": 3600,
        "stages": [
            {"name": "Landing", "kind": "page", "match": "/"},
            {"name": "Product", "kind": "page", "match": "/products/{id}"},
            {"name": "Buy", "kind": "click", "match": "#buy"},
            {"name": "Signup", "kind": "event", "match": "signup"},
        ],
    },
    "campaigns": [{"name": "Spring", "utm_source": "newsletter", "utm_campaign": "spring"}],
    "elements": [{"name": "Pricing CTA", "selector": "#pricing a.cta"}],
}


def _event(rng: random.Random, **fields) -> StoredEvent:
    return StoredEvent(event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)), **fields)


def generate(
    *,
    app_id: int,
    epoch: int,
    config: dict,
    visitors: int,
    start_ms: int,
    days: int,
    seed: int = 7,
) -> Iterator[StoredEvent]:
    """About 10 events per visitor on average (sessions x pages), in no particular order."""
    rng = random.Random(seed)
    compiled = CompiledConfig.from_dict(config)
    elements = [e["name"] for e in config.get("elements", [])]
    span = days * 86_400_000
    for v in range(visitors):
        visitor = f"v{v:07d}"
        browser, os_name, device = rng.choice(CLIENTS)
        for s in range(rng.choice((1, 1, 1, 2, 3))):
            ts = start_ms + rng.randrange(span - 3_600_000)
            session = f"{visitor}-s{s}"
            common = dict(
                app_id=app_id, epoch=epoch, visitor_id=visitor, session_id=session,
                browser=browser, os=os_name, device=device,
            )  # fmt: skip
            yield from _session(rng, compiled, elements, common, ts)


def _session(rng, compiled, elements, common, ts) -> Iterator[StoredEvent]:
    walk = rng.random() < 0.3
    paths = [rng.choice(ROUTES) for _ in range(rng.choice((1, 1, 2, 3, 4, 6)))]
    if walk:
        paths = ["/", "/products/1", *paths[:2]]
    query = rng.choice(CAMPAIGN_QUERIES) if rng.random() < 0.15 else ""
    for index, path in enumerate(paths):
        url = f"https://shop.acme.test{path}" + (f"?{query}" if index == 0 and query else "")
        referrer = rng.choice(REFERRERS) if index == 0 else paths[index - 1]
        yield _event(
            rng, ts=ts, type="pageview", path=path, query=query if index == 0 else "",
            referrer=referrer, title=path, stages=tuple(compiled.stages_for_pageview(url)),
            campaign=(compiled.campaign_for(url) or "") if index == 0 else "", **common,
        )  # fmt: skip
        ts += rng.randrange(2_000, 120_000)
        yield _event(
            rng, ts=ts, type="leave", path=path, duration_ms=rng.randrange(1_000, 100_000), **common
        )
        if walk and index == 1 and rng.random() < 0.6:
            ts += rng.randrange(1_000, 30_000)
            yield _event(
                rng, ts=ts, type="click", path=path, selector="#buy",
                stages=tuple(compiled.stages_for_click("#buy")), **common,
            )  # fmt: skip
            if rng.random() < 0.5:
                ts += rng.randrange(1_000, 600_000)
                yield _event(
                    rng, ts=ts, type="event", name="signup", props={"plan": "pro"},
                    stages=tuple(compiled.stages_for_event("signup")), **common,
                )  # fmt: skip
        if elements and rng.random() < 0.2:
            action = "click" if rng.random() < 0.4 else "leave"
            yield _event(
                rng, ts=ts, type="element", name=rng.choice(elements), action=action,
                duration_ms=rng.randrange(100, 5_000), **common,
            )  # fmt: skip
        ts += rng.randrange(1_000, 10_000)
