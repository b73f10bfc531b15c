"""Reads of the demo: the demo shop's app and the token its pages embed."""

from __future__ import annotations

from dataclasses import dataclass

from apps_registry.models import App
from datalab.errors import NotFound
from tokens.services import current_token

from .constants import DEMO_APP, DEMO_DOMAIN
from .site import BLOG_POSTS, DOCS, FEATURES, PAGES, PRODUCTS


@dataclass(frozen=True)
class Shop:
    app: App
    token: str


def demo_app() -> App | None:
    """The demo organization's "Demo shop" app, once `manage.py demo` made it."""
    return App.objects.filter(name=DEMO_APP, organization__domain=DEMO_DOMAIN).first()


def demo_shop() -> Shop | None:
    """The demo app and its current token; None before `manage.py demo` made them."""
    app = demo_app()
    if app is None:
        return None
    try:
        return Shop(app=app, token=current_token(app).token)
    except NotFound:
        return None


def shop_page_exists(path: str) -> bool:
    """Whether the demo shop has a page at `path` (relative to /demo/): the pages generated
    traffic visits, so that every row of the dashboard's tables links to a real page."""
    section, _, leaf = path.strip("/").rpartition("/")
    if not section:
        return leaf in PAGES
    known = {"blog": BLOG_POSTS, "docs": DOCS, "features": FEATURES}
    if section == "products":
        return leaf.isdigit() and 1 <= int(leaf) <= PRODUCTS
    return leaf in known.get(section, ())
