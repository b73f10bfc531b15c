"""The live report: visitors of the last minutes, their pages, the latest events."""

from __future__ import annotations

import numpy as np

from eventstore import Columns

from .arrays import last_at


def live(rows: Columns, stage_names: list[str], *, limit: int = 20) -> dict:
    n_visitors = len(rows.tables["visitor_id"])
    with_path = np.flatnonzero(rows.codes["path"] != rows.code_of("path", ""))
    current = last_at(n_visitors, rows.codes["visitor_id"][with_path], with_path)
    paths = rows.codes["path"][current[current >= 0]]
    pages = np.bincount(paths, minlength=len(rows.tables["path"]))
    table = rows.tables
    latest = range(len(rows) - 1, max(len(rows) - 1 - limit, -1), -1)
    return {
        "visitors": int(np.count_nonzero(np.bincount(rows.codes["visitor_id"], minlength=1))),
        "pages": sorted(
            ({"path": table["path"][code], "visitors": int(pages[code])}
             for code in np.flatnonzero(pages)),
            key=lambda p: (-p["visitors"], p["path"]),
        ),
        "events": [
            {
                "ts": int(rows.ts[i]),
                "type": table["type"][rows.codes["type"][i]],
                "path": table["path"][rows.codes["path"][i]],
                "name": table["name"][rows.codes["name"][i]],
                "stages": [name for s, name in enumerate(stage_names) if rows.stages[i] >> s & 1],
            }
            for i in latest
        ],
    }  # fmt: skip
