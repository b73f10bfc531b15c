"""The demo shop's configuration (no Django needed: benchmarks import it before setting up)."""

from __future__ import annotations


def demo_config(*, base: str = "/") -> dict:
    """The demo shop's configuration, for a shop under `base`: a four-stage funnel (landing,
    a product, the buy button, the signup event), a campaign and two tracked elements. The demo,
    tests and benchmarks share it."""
    base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
    return {
        "funnel": {
            "order": "ordered",
            "window_seconds": 3600,
            "stages": [
                {"name": "Landing", "kind": "page", "match": base},
                {"name": "Product", "kind": "page", "match": f"{base}products/{{id}}"},
                {"name": "Buy", "kind": "click", "match": "#buy"},
                {"name": "Signup", "kind": "event", "match": "signup"},
            ],
        },
        "campaigns": [{"name": "Spring", "utm_source": "newsletter", "utm_campaign": "spring"}],
        "elements": [
            {"name": "Pricing CTA", "selector": "#pricing a.cta"},
            {"name": "Buy button", "selector": "#buy"},
        ],
    }


DEMO_CONFIG = demo_config()
