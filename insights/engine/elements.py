"""The elements report: hovers, clicks and leaves of the tracked elements."""

from __future__ import annotations

import numpy as np

from eventstore import Rollups

from .arrays import median, ratio
from .scan import Scan, rollups_of

ELEMENTS = ("elements.name", "elements.action", "elements.duration_ms")


def elements(source: Scan | Rollups, names: list[str]) -> list[dict]:
    r = rollups_of(source)
    name, action, duration = (r[column] for column in ELEMENTS)
    results = []
    for element in names:
        mine = name == r.code_of("name", element)
        clicks = np.sort(duration[mine & (action == r.code_of("action", "click"))])
        leaves = np.sort(duration[mine & (action == r.code_of("action", "leave"))])
        hovers = len(clicks) + len(leaves)
        results.append(
            {
                "name": element,
                "hovers": hovers,
                "clicks": len(clicks),
                "leaves": len(leaves),
                "click_through_rate": ratio(len(clicks), hovers),
                "median_hover_ms_before_click": median(clicks.tolist()),
                "median_hover_ms_before_leave": median(leaves.tolist()),
            }
        )
    return results
