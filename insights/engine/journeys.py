"""The journeys report: the paths visitors take from (or to) a page, as a graph by step."""

from __future__ import annotations

import numpy as np

from .arrays import LEFT, distinct_by_key, distinct_counts, group_starts, string_ranks
from .scan import Scan


def _page_sequences(scan: Scan, start: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The pageview paths by (ts, path) of every kept session (that viewed `start`), repeats of
    a path in a row dropped: (session code, path code) per step, sessions contiguous."""
    c = scan.all_rows
    session, is_pv = c.codes["session_id"], c.codes["type"] == scan.pageview
    wanted = scan.kept
    if start is not None:
        viewed = session[is_pv & (c.codes["path"] == c.code_of("path", start))]
        wanted = wanted & (np.bincount(viewed, minlength=len(wanted)) > 0)
    rows = np.flatnonzero(is_pv & wanted[session])
    rows = rows[np.argsort(session[rows], kind="stable")]  # by session, then (ts, event id)
    same_time = np.flatnonzero(
        (session[rows][1:] == session[rows][:-1]) & (c.ts[rows][1:] == c.ts[rows][:-1])
    )
    if len(same_time):  # pageviews of one session at one ms: by path
        rank = string_ranks(c.tables["path"])
        tied = np.zeros(len(rows), dtype=bool)
        tied[same_time] = tied[same_time + 1] = True
        at = np.flatnonzero(tied)
        order = np.lexsort((rank[c.codes["path"][rows[at]]], c.ts[rows[at]], session[rows[at]]))
        rows[at] = rows[at][order]
    session, path = session[rows], c.codes["path"][rows]
    keep = group_starts(session) | group_starts(path)
    return session[keep], path[keep]


def journeys(scan: Scan, *, start: str | None, steps: int, direction: str) -> dict:
    session, path = _page_sequences(scan, start)
    if direction != "forward":
        session, path = session[::-1], path[::-1]
    if not len(session):
        return _journey_graph(np.zeros((0, steps), dtype=np.int64), session, [])
    left = len(scan.tables["path"])  # the code of the "(left)" node
    starts = np.flatnonzero(group_starts(session))
    end_of = np.repeat(np.r_[starts[1:], len(session)], np.diff(np.r_[starts, len(session)]))
    if start is None:
        first = starts
    else:
        at = np.flatnonzero(path == scan.all_rows.code_of("path", start))
        first = at[group_starts(session[at])]
    length = np.minimum(end_of[first] - first, steps)
    walks = np.full((len(first), steps), -1, dtype=np.int64)
    for j in range(steps):
        inside = j < length
        walks[inside, j] = path[first[inside] + j]
    short = np.flatnonzero(length < steps)
    walks[short, length[short]] = left  # visitors who stopped before `steps` pages
    visitors = scan.visitor[session[first]]
    return _journey_graph(walks, visitors, scan.tables["path"] + [LEFT])


def _unique_rows(walks: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(walks, axis=0, return_inverse=True), through one int64 key per row when the
    codes (-1 to base-2) fit."""
    if base ** walks.shape[1] >= 2**62:
        unique, inverse = np.unique(walks, axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    keys = (walks + 1) @ (base ** np.arange(walks.shape[1], dtype=np.int64))
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return walks[first], inverse


def _journey_graph(walks: np.ndarray, visitors: np.ndarray, names: list[str]) -> dict:
    if not len(walks):
        return {"paths": [], "nodes": [], "links": []}
    unique, walk_of = _unique_rows(walks, len(names) + 1)
    counts = distinct_counts(walk_of, visitors, len(unique))
    floor = np.sort(counts)[-20] if len(counts) > 20 else 0  # the 20th largest count
    top = sorted(
        (
            (int(counts[i]), [names[c] for c in unique[i] if c >= 0])
            for i in np.flatnonzero(counts >= floor)
        ),
        key=lambda item: (-item[0], item[1]),
    )[:20]
    width = len(names)
    step_nodes = walks + np.arange(walks.shape[1]) * width  # node key: step * width + code
    nodes, links = {}, {}
    valid = walks >= 0
    keys = step_nodes[valid]
    who = np.broadcast_to(visitors[:, None], walks.shape)[valid]
    for key, count in zip(*distinct_by_key(keys, who), strict=True):
        nodes[(int(key) // width, names[int(key) % width])] = int(count)
    linked = valid[:, 1:] & valid[:, :-1]
    pairs = step_nodes[:, :-1][linked] * (width * walks.shape[1]) + step_nodes[:, 1:][linked]
    who = np.broadcast_to(visitors[:, None], linked.shape)[linked]
    span = width * walks.shape[1]
    for key, count in zip(*distinct_by_key(pairs, who), strict=True):
        a, b = divmod(int(key), span)
        links[((a // width, names[a % width]), (b // width, names[b % width]))] = int(count)

    def node_id(node: tuple[int, str]) -> str:
        return f"{node[0]}:{node[1]}"

    return {
        "paths": [{"path": path, "visitors": count} for count, path in top],
        "nodes": [
            {"id": node_id(n), "name": n[1], "step": n[0], "visitors": v}
            for n, v in sorted(nodes.items())
        ],
        "links": [
            {"source": node_id(a), "target": node_id(b), "visitors": v}
            for (a, b), v in sorted(links.items())
        ],
    }
