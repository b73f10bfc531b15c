"""`Scan`: the events of a range by columns, grouped into sessions, filters applied."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from eventstore import Columns

from .arrays import DIRECT, NONE, first_at, last_at, pick, string_ranks


class Scan:
    """The events of a range by columns, grouped into sessions; filters applied.

    `rows`: the events that count (filtered). Session arrays (`kept`, `first_ts`, `entry`, ...)
    are indexed by session code and describe whole sessions in the range (before the path
    filter drops other pageviews); each is computed when an endpoint first reads it."""

    def __init__(self, columns: Columns, filters: dict[str, str]) -> None:
        c = self.all_rows = columns
        self.tables = c.tables
        self.n_visitors = len(c.tables["visitor_id"])
        self.n_paths = len(c.tables["path"])
        self.n_sessions = len(c.tables["session_id"])
        self.pageview = c.code_of("type", "pageview")
        self.rows = c
        if filters:
            self.kept = self._filtered(filters)
            self.rows = c.take(self.kept[self.session])
        if "path" in filters:
            pv = self.rows.codes["type"] == self.pageview
            other = self.rows.codes["path"] != c.code_of("path", filters["path"])
            self.rows = self.rows.take(~(pv & other))

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
        """Per session code: has events in the range, and matches the filters."""
        return self.first_row != NONE

    @cached_property
    def visitor(self) -> np.ndarray:
        found = self.first_row != NONE
        return pick(self.all_rows.codes["visitor_id"], self.first_row, found, -1)

    @cached_property
    def first_ts(self) -> np.ndarray:
        return pick(self.all_rows.ts, self.first_row, self.first_row != NONE, 0)

    @cached_property
    def last_ts(self) -> np.ndarray:
        return last_at(self.n_sessions, self.session, self.all_rows.ts)

    @cached_property
    def views(self) -> np.ndarray:
        """Per session code: its pageviews (all of them, whatever the path filter)."""
        return np.bincount(self.session[self.all_pageviews], minlength=self.n_sessions)

    @cached_property
    def referrer(self) -> np.ndarray:
        return self._first_code("referrer")

    @cached_property
    def campaign(self) -> np.ndarray:
        return self._first_code("campaign")

    def _first_code(self, name: str) -> np.ndarray:
        """Per session, the code of `name` on its first pageview that has one (-1: none)."""
        c = self.all_rows
        rows = np.flatnonzero(self.all_pageviews & (c.codes[name] != c.code_of(name, "")))
        first = first_at(self.n_sessions, self.session[rows], rows)
        return pick(c.codes[name], first, first != NONE, -1)

    @cached_property
    def entry_and_exit(self) -> tuple[np.ndarray, np.ndarray]:
        """Per session, the path codes of its first and last pageview by (ts, path)."""
        c = self.all_rows
        rows = np.flatnonzero(self.all_pageviews)
        s, ts = self.session[rows], c.ts[rows]
        ranks = string_ranks(c.tables["path"])
        rank = ranks[c.codes["path"][rows]]
        code_of_rank = np.argsort(ranks)
        size = self.n_sessions
        first, last = ts == first_at(size, s, ts)[s], ts == last_at(size, s, ts)[s]
        entry = first_at(size, s[first], rank[first])
        exit_ = last_at(size, s[last], rank[last])
        return (
            pick(code_of_rank, entry, entry != NONE, -1),
            pick(code_of_rank, exit_, exit_ >= 0, -1),
        )

    def _filtered(self, filters: dict[str, str]) -> np.ndarray:
        """The sessions that match every filter (a value no event has matches none)."""
        c, kept = self.all_rows, self.first_row != NONE
        for key, value in filters.items():
            code = c.code_of(key, value)
            if key == "path":
                viewed = self.session[self.all_pageviews & (c.codes["path"] == code)]
                kept &= np.bincount(viewed, minlength=self.n_sessions) > 0
            elif key == "referrer" and value == DIRECT:
                kept &= self.referrer == -1
            elif key in ("referrer", "campaign"):
                first = self.referrer if key == "referrer" else self.campaign
                kept &= (first == code) & (code != -1)
            else:
                kept &= (pick(c.codes[key], self.first_row, kept, -1) == code) & (code != -1)
        return kept

    def visitors(self) -> int:
        return int(np.count_nonzero(np.bincount(self.rows.codes["visitor_id"], minlength=1)))
