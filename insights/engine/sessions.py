"""The range's sessions, each merged from its rows in the pieces' `sessions` rollups."""

from __future__ import annotations

import weakref
from functools import cached_property

import numpy as np

from eventstore import Rollups

from .arrays import best_rows, group_index, string_ranks

# the `sessions` columns each property reads
SESSION = ("sessions.session",)
FIRST = (*SESSION, "sessions.first_ts", "sessions.first_hi", "sessions.first_lo")
VISITOR = (*FIRST, "sessions.visitor")
KPIS = (*SESSION, "sessions.first_ts", "sessions.last_ts", "sessions.views")
ENTRY_EXIT = (*SESSION, "sessions.views", "sessions.entry_ts", "sessions.entry_path",
              "sessions.exit_ts", "sessions.exit_path")  # fmt: skip
FIRST_CODES = tuple(f"sessions.{kind}{key}" for kind in ("referrer", "campaign")
                for key in ("", "_ts", "_hi", "_lo"))  # fmt: skip


def sessions(r: Rollups) -> Sessions:
    """The sessions of these rollups (computed once per `Rollups`, kept in its cache). They
    refer back to the rollups weakly: a cycle would keep every piece's bytes and arrays (some
    200 MB per request at 10M events) alive until Python's cyclic collector happens to run."""
    if "sessions" not in r.cache:
        r.cache["sessions"] = Sessions(weakref.proxy(r))
    return r.cache["sessions"]


class Sessions:
    """Per session (index i: the i-th smallest session code, `codes[i]`): its visitor, first
    and last ts, pageviews, entry and exit paths, referrer and campaign codes (-1: none). A
    session split over several pieces gets its first event's, earliest pageview's, ... values."""

    def __init__(self, r: Rollups) -> None:
        self.r = r
        self.group, self.codes = group_index(r["sessions.session"])  # each row's session index
        self.n = len(self.codes)

    def index_of(self, codes: np.ndarray) -> np.ndarray:
        """The session index of session codes (of sessions of the range)."""
        return np.searchsorted(self.codes, codes)

    def _best(self, keys: tuple[str, ...], among=None, *, largest=False) -> np.ndarray:
        values = [self.r.column(f"sessions.{key}") for key in keys]  # rows compared only
        return best_rows(self.group, self.n, values, among, largest=largest)

    @cached_property
    def visitor(self) -> np.ndarray:
        """The visitor of each session's first event."""
        return self.r["sessions.visitor"][self._best(("first_ts", "first_hi", "first_lo"))]

    @cached_property
    def _several(self) -> np.ndarray:
        """The rows of sessions with several rows (found in several pieces)."""
        return np.flatnonzero(np.bincount(self.group, minlength=self.n)[self.group] > 1)

    def _reduce(self, values: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
        """Per session, `ufunc` (np.minimum, np.maximum) of its rows' values: only the rows of
        sessions with several are reduced."""
        out = np.empty(self.n, dtype=values.dtype)
        out[self.group] = values  # a value of each session's rows
        rows = self._several
        ufunc.at(out, self.group[rows], values[rows])
        return out

    @cached_property
    def first_ts(self) -> np.ndarray:
        return self._reduce(self.r["sessions.first_ts"], np.minimum)

    @cached_property
    def last_ts(self) -> np.ndarray:
        return self._reduce(self.r["sessions.last_ts"], np.maximum)

    @cached_property
    def views(self) -> np.ndarray:
        return np.bincount(self.group, weights=self.r["sessions.views"], minlength=self.n).astype(
            np.int64
        )

    @cached_property
    def entry_and_exit(self) -> tuple[np.ndarray, np.ndarray]:
        """The path codes of each session's first and last pageview by (ts, path); -1: none."""
        ranks = string_ranks(self.r.tables["path"])
        paths = []
        for end, largest in (("entry", False), ("exit", True)):
            path = self.r[f"sessions.{end}_path"]
            rank = np.full(len(path), -1, dtype=np.int64)
            rank[path >= 0] = ranks[path[path >= 0]]
            ts = self.r.column(f"sessions.{end}_ts")
            best = best_rows(self.group, self.n, [ts, rank], path >= 0, largest=largest)
            paths.append(np.where(best >= 0, path[best], -1))
        return paths[0], paths[1]

    @cached_property
    def referrer(self) -> np.ndarray:
        return self._first_code("referrer")

    @cached_property
    def campaign(self) -> np.ndarray:
        return self._first_code("campaign")

    def _first_code(self, name: str) -> np.ndarray:
        """The code of `name` of each session's first pageview that has one; -1: none."""
        code = self.r[f"sessions.{name}"]
        best = self._best((f"{name}_ts", f"{name}_hi", f"{name}_lo"), code >= 0)
        return np.where(best >= 0, code[best], -1)
