"""`Scan`: the events of a range by columns, grouped into sessions, filters applied; and the
rollups the reports read (`rollups_of`)."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from eventstore import Columns, Rollups, rollups_of_rows

from .arrays import DIRECT, NONE, first_at, pick


class Scan:
    """The events of a range by columns, grouped into sessions; filters applied.

    `rows`: the events that count (filtered); `session_rows`: every event of the sessions kept
    (the path filter drops other pageviews from `rows` only). `kept`: per session code, whether
    the session has events in the range and matches the filters."""

    def __init__(self, columns: Columns, filters: dict[str, str]) -> None:
        c = self.all_rows = columns
        self.tables = c.tables
        self.n_visitors = len(c.tables["visitor_id"])
        self.n_sessions = len(c.tables["session_id"])
        self.pageview = c.code_of("type", "pageview")
        self.rows = self.session_rows = c
        if filters:
            self.kept = self._filtered(filters)
            self.rows = self.session_rows = c.take(self.kept[self.session])
        if "path" in filters:
            pv = self.rows.codes["type"] == self.pageview
            other = self.rows.codes["path"] != c.code_of("path", filters["path"])
            self.rows = self.rows.take(~(pv & other))

    @cached_property
    def rollups(self) -> Rollups:
        """The rollups of the events that count (one piece), which the reports read."""
        return rollups_of_rows(self.rows, self.session_rows)

    @cached_property
    def session(self) -> np.ndarray:
        return self.all_rows.codes["session_id"]

    @cached_property
    def all_pageviews(self) -> np.ndarray:
        return self.all_rows.codes["type"] == self.pageview

    @cached_property
    def is_pv(self) -> np.ndarray:
        """Per row of `rows`: a pageview?"""
        return self.rows.codes["type"] == self.pageview

    @cached_property
    def first_row(self) -> np.ndarray:
        return first_at(self.n_sessions, self.session, np.arange(len(self.all_rows)))

    @cached_property
    def kept(self) -> np.ndarray:
        return self.first_row != NONE

    def _first_code(self, name: str) -> np.ndarray:
        """Per session, the code of `name` on its first pageview that has one (-1: none)."""
        c = self.all_rows
        rows = np.flatnonzero(self.all_pageviews & (c.codes[name] != c.code_of(name, "")))
        first = first_at(self.n_sessions, self.session[rows], rows)
        return pick(c.codes[name], first, first != NONE, -1)

    def _filtered(self, filters: dict[str, str]) -> np.ndarray:
        """The sessions that match every filter (a value no event has matches none)."""
        c, kept = self.all_rows, self.first_row != NONE
        for key, value in filters.items():
            code = c.code_of(key, value)
            if key == "path":
                viewed = self.session[self.all_pageviews & (c.codes["path"] == code)]
                kept &= np.bincount(viewed, minlength=self.n_sessions) > 0
            elif key == "referrer" and value == DIRECT:
                kept &= self._first_code("referrer") == -1
            elif key in ("referrer", "campaign"):
                kept &= (self._first_code(key) == code) & (code != -1)
            else:
                kept &= (pick(c.codes[key], self.first_row, kept, -1) == code) & (code != -1)
        return kept

    def visitors(self) -> int:
        return int(np.count_nonzero(np.bincount(self.rows.codes["visitor_id"], minlength=1)))


def rollups_of(source: Scan | Rollups) -> Rollups:
    """What the reports read: a store's rollups, or those of a scan's events."""
    return source.rollups if isinstance(source, Scan) else source
