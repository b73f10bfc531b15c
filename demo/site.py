"""The site that generated traffic walks: its pages, the funnel's stage actions, campaigns.

Built from what an app really is (its URL and its frozen configuration), so that traffic for
any app reaches its own funnel stages, campaigns and tracked elements. Every fact an event
carries is worked out here once per distinct value, by the same code ingest runs per event
(`ingest.services.page_facts`, `ingest.enrichment`), so generated events are what ingest would
have stored.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from funnels.matching import CompiledConfig
from funnels.templates import compile_template
from ingest.enrichment import referrer_of
from ingest.services import page_facts

PRODUCTS = 30
BLOG_POSTS = [
    "launch-week", "funnels-101", "privacy-first-analytics", "cohorts", "spring-sale",
    "release-notes-2-4", "case-study-acme", "pricing-update", "sankey-journeys", "utm-guide",
    "self-hosting", "cassandra-at-scale", "dashboards", "retention", "ab-testing",
    "customer-story-globex", "roadmap", "shipping-faster", "seo-basics", "mobile-first",
    "accessibility", "dark-mode", "websockets", "gdpr", "team-offsite", "hiring",
    "year-in-review", "onboarding", "churn", "growth-loops",
]  # fmt: skip
DOCS = [
    "getting-started", "install", "snippet", "spa", "custom-events", "funnels", "campaigns",
    "elements", "api", "tokens", "teams", "self-hosting", "cassandra", "archiving", "faq",
    "privacy", "changelog", "limits", "troubleshooting", "glossary",
]  # fmt: skip
FEATURES = ["funnels", "journeys", "live", "campaigns", "elements", "teams"]
# The site's other pages, most visited first (Zipf weights follow this order).
PAGES = [
    "", "pricing", "products", "features", "blog", "docs", "signup", "about", "cart",
    "login", "contact", "checkout", "careers", "terms", "privacy",
]  # fmt: skip
TITLES = {"": "Home", "cart": "Your cart", "signup": "Create your account"}
# External referrers (full URLs, reduced to their host by ingest) and their weights.
REFERRERS = [
    ("", 38), ("https://www.google.com/", 30), ("https://www.bing.com/", 4),
    ("https://duckduckgo.com/", 4), ("https://news.ycombinator.com/", 5),
    ("https://t.co/x1", 4), ("https://www.reddit.com/r/analytics/", 3),
    ("https://github.com/datalab", 3), ("https://www.linkedin.com/", 3),
    ("https://www.facebook.com/", 2), ("https://www.producthunt.com/", 2),
    ("https://stackoverflow.com/questions/1", 2),
]  # fmt: skip
OTHER_UTM = [  # campaign-looking landings that match no configured campaign
    {"utm_source": "partner", "utm_medium": "referral"},
    {"utm_source": "twitter", "utm_medium": "social", "utm_campaign": "launch"},
]
CUSTOM_EVENTS = [("search", {"results": 12}), ("newsletter", {"list": "weekly"})]


@dataclass(frozen=True)
class Page:
    """A URL of the site and what ingest makes of it."""

    url: str
    path: str
    query: str
    title: str
    stages: tuple[int, ...]
    campaign: str = ""
    utm: dict | None = None


@dataclass(frozen=True)
class StageAction:
    """How a visitor reaches funnel stage `index`: a page, a click or a custom event."""

    index: int
    kind: str  # page | click | event
    pages: tuple[Page, ...] = ()  # page stages: the pages that reach it
    value: str = ""  # click: the selector; event: the name
    stages: tuple[int, ...] = ()  # stages a click or event reaches


@dataclass
class Site:
    """Pages (with Zipf weights), landing pages with campaigns, referrers, funnel actions."""

    app_id: int
    epoch: int
    url: str
    config: dict
    timezone: str = "UTC"
    first_party_ids: bool = False
    compiled: CompiledConfig = field(init=False)
    pages: list[Page] = field(init=False)
    weights: list[float] = field(init=False)
    landings: list[tuple[Page, float]] = field(init=False)  # (page with UTM, weight)
    referrers: list[tuple[str, float]] = field(init=False)  # (stored referrer, weight)
    stage_actions: list[StageAction] = field(init=False)
    elements: list[str] = field(init=False)
    window_ms: int = field(init=False)

    def __post_init__(self) -> None:
        self.compiled = CompiledConfig.from_dict(self.config)
        parts = urlsplit(self.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.host = (parts.hostname or "").lower()
        self.base = parts.path.rstrip("/") + "/"
        self.stage_actions = self._stage_actions()
        extra = [page.path for action in self.stage_actions for page in action.pages]
        self.pages = [self.page(path) for path in dict.fromkeys([*self._paths(), *extra])]
        self.weights = [1 / (rank + 2) ** 1.05 for rank in range(len(self.pages))]
        self.landings = self._landings()
        self.referrers = [(referrer_of(url, app_host=self.host), w) for url, w in REFERRERS]
        self.elements = [element["name"] for element in self.config.get("elements", [])]
        funnel = self.config.get("funnel", {})
        self.window_ms = int(funnel.get("window_seconds", 3600)) * 1000
        self.order = funnel.get("order", "ordered")

    def page(self, path: str, query: str = "") -> Page:
        """The page at `path` (with `query`), as ingest would see it."""
        url = f"{self.origin}{path}" + (f"?{query}" if query else "")
        location, stages, campaign = page_facts(self.compiled, url)
        name = path.removeprefix(self.base).strip("/")
        section, _, leaf = name.rpartition("/")
        title = TITLES.get(name) or leaf.replace("-", " ").capitalize()
        if section == "products":
            title = f"Product {leaf}"
        return Page(
            url=url,
            path=location.path,
            query=location.query,
            title=title,
            stages=stages,
            campaign=campaign,
            utm=location.utm,
        )

    def _paths(self) -> list[str]:
        top = [self.base + name for name in PAGES]
        products = [f"{self.base}products/{n}" for n in range(1, PRODUCTS + 1)]
        blog = [f"{self.base}blog/{slug}" for slug in BLOG_POSTS]
        docs = [f"{self.base}docs/{slug}" for slug in DOCS]
        features = [f"{self.base}features/{slug}" for slug in FEATURES]
        # interleaved, so that the long tail mixes sections as real sites do
        tail = [p for group in itertools.zip_longest(products, blog, docs, features) for p in group]
        return [*top[:3], *products[:3], *top[3:], *[p for p in tail if p]]

    def _stage_actions(self) -> list[StageAction]:
        actions = []
        for index, stage in enumerate(self.config.get("funnel", {}).get("stages", [])):
            kind, match = stage["kind"], stage["match"]
            if kind == "page":
                query = urlencode(self._query_for(stage))
                pages = [self.page(path, query) for path in self._paths_for(match)]
                pages = tuple(page for page in pages if index in page.stages)
                if pages:  # a template no concrete URL matches is left out
                    actions.append(StageAction(index, kind, pages=pages))
            elif kind == "click":
                stages = tuple(self.compiled.stages_for_click(match))
                actions.append(StageAction(index, kind, value=match, stages=stages))
            else:
                stages = tuple(self.compiled.stages_for_event(match))
                actions.append(StageAction(index, kind, value=match, stages=stages))
        return actions

    @staticmethod
    def _paths_for(template: str) -> list[str]:
        """Concrete paths `template` matches: placeholders filled with a few values (product
        numbers after a segment named like products), `*` left empty."""
        compiled = compile_template(template)
        paths = [[]]
        for literal in compiled.literals:
            if literal is not None:
                values = [literal]
            elif paths[0] and paths[0][-1].startswith("product"):
                values = [str(n) for n in range(1, PRODUCTS + 1)]
            else:
                values = ["welcome", "start", "spring"]
            paths = [[*path, value] for path in paths for value in values][:PRODUCTS]
        slash = "/" if template.endswith("/") and compiled.literals else ""
        return ["/" + "/".join(path) + slash for path in paths]

    @staticmethod
    def _query_for(stage: dict) -> dict[str, str]:
        return {
            name: ("1" if value == "*" else value) for name, value in stage.get("query", {}).items()
        }

    def _landings(self) -> list[tuple[Page, float]]:
        """Landing pages carrying UTM parameters: each configured campaign, and others."""
        utms = []
        for campaign in self.config.get("campaigns", []):
            utm = {k: v for k, v in campaign.items() if k.startswith("utm_")}
            utms.append(({"utm_medium": "email", **utm} if "utm_medium" not in utm else utm, 3.0))
        utms += [(utm, 1.0) for utm in OTHER_UTM]
        home = self.base
        return [(self.page(home, urlencode(utm)), weight) for utm, weight in utms]
