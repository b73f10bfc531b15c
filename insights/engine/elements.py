"""The elements report: hovers, clicks and leaves of the tracked elements."""

from __future__ import annotations

import numpy as np

from .arrays import median, ratio
from .scan import Scan


def elements(scan: Scan, names: list[str]) -> list[dict]:
    rows = scan.rows
    is_element = rows.codes["type"] == rows.code_of("type", "element")
    results = []
    for name in names:
        mine = is_element & (rows.codes["name"] == rows.code_of("name", name))
        action = rows.codes["action"]
        clicks = np.sort(rows.duration_ms[mine & (action == rows.code_of("action", "click"))])
        leaves = np.sort(rows.duration_ms[mine & (action == rows.code_of("action", "leave"))])
        hovers = len(clicks) + len(leaves)
        results.append(
            {
                "name": name,
                "hovers": hovers,
                "clicks": len(clicks),
                "leaves": len(leaves),
                "click_through_rate": ratio(len(clicks), hovers),
                "median_hover_ms_before_click": median(clicks.tolist()),
                "median_hover_ms_before_leave": median(leaves.tolist()),
            }
        )
    return results
