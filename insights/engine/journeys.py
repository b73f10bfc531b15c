"""The journeys report: the paths visitors take from (or to) a page, as a graph by step."""

from __future__ import annotations

import numpy as np

from eventstore import Rollups, groups_of

from .arrays import (
    LEFT,
    distinct_by_key,
    group_starts,
    spread_codes,
    spread_rows,
    string_ranks,
)
from .scan import Scan, rollups_of
from .sessions import VISITOR, sessions

JOURNEYS = ("pageviews.session", "pageviews.ts", "pageviews.path", *VISITOR)


def _page_sequences(r: Rollups, start: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The pageview paths by (ts, path) of every session (that viewed `start`), repeats of a
    path in a row dropped: (session code, path code) per step, sessions contiguous. Each
    piece's rows are in that order: only sessions found in several pieces are sorted again."""
    session, path = r["pageviews.session"], r["pageviews.path"]
    spread = spread_codes(session, r.offsets("pageviews"))
    kept = np.ones(len(session), dtype=bool)
    if start is not None and len(session):
        viewed = np.zeros(int(session.max()) + 1, dtype=bool)
        viewed[session[path == r.code_of("path", start)]] = True
        kept = viewed[session]
    again = np.flatnonzero(spread & kept)
    ts, ranks = r.column("pageviews.ts")[again], string_ranks(r.tables["path"])
    again = again[np.lexsort((ranks[path[again]], ts, session[again]))]
    alone = kept & ~spread
    session = np.concatenate([session[alone], session[again]])
    path = np.concatenate([path[alone], path[again]])
    keep = group_starts(session) | group_starts(path)
    return session[keep], path[keep]


def journeys(source: Scan | Rollups, *, start: str | None, steps: int, direction: str) -> dict:
    r = rollups_of(source)
    session, path = _page_sequences(r, start)
    if direction != "forward":
        session, path = session[::-1], path[::-1]
    if not len(session):
        return _journey_graph(np.zeros((0, steps), dtype=np.int64), session, [])
    left = len(r.tables["path"])  # the code of the "(left)" node
    starts = np.flatnonzero(group_starts(session))
    ends = np.r_[starts[1:], len(session)]
    if start is None:
        first, end = starts, ends
    else:
        at = np.flatnonzero(path == r.code_of("path", start))
        first = at[group_starts(session[at])]
        end = ends[np.searchsorted(starts, first, side="right") - 1]
    length = np.minimum(end - first, steps)
    step = np.arange(steps, dtype=np.int32 if len(path) < 2**31 - steps else np.int64)
    at_step = first.astype(step.dtype)[:, None] + step
    np.minimum(at_step, len(path) - 1, out=at_step)
    walks = path[at_step]
    walks[step >= length[:, None]] = -1
    short = np.flatnonzero(length < steps)
    walks[short, length[short]] = left  # visitors who stopped before `steps` pages
    s = sessions(r)
    visitors = s.visitor[s.index_of(session[first])]
    return _journey_graph(walks, visitors, [*r.tables["path"], LEFT])


def _unique_rows(walks: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(walks, axis=0, return_inverse=True), through one int64 key per row when the
    codes (-1 to base-2) fit."""
    if base ** walks.shape[1] >= 2**62:
        unique, inverse = np.unique(walks, axis=0, return_inverse=True)
        return unique, inverse.reshape(-1)
    keys = np.zeros(len(walks), dtype=np.int64)
    for column in walks.T[::-1]:  # the first step's code weighs least, as before
        keys = keys * base + (column + 1)
    order = np.argsort(keys)  # equal keys are equal walks: any of them stands for all
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    inverse = np.empty(len(keys), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return walks[order[starts]], inverse


def _top(unique: np.ndarray, counts: np.ndarray, names: list[str], limit: int = 20) -> np.ndarray:
    """The `limit` walks with the most visitors, ties by their names (a walk is its codes then
    -1s: ranks of names with -1 after the end compare like the lists of names)."""
    chosen = np.arange(len(counts))
    if len(counts) > limit:  # only the walks with as many visitors as the limit-th are sorted
        chosen = np.flatnonzero(counts >= np.partition(counts, len(counts) - limit)[-limit])
    ranks = string_ranks(names)
    keys = np.where(unique[chosen] >= 0, ranks[np.maximum(unique[chosen], 0)], -1)
    return chosen[np.lexsort([*keys.T[::-1], -counts[chosen]])[:limit]]


def _keys(walks: np.ndarray, width: int, *, links: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per walk and step, the key of its node (step * width + code) or of its link to the next
    step's node, and whether there is one."""
    nodes = walks + np.arange(walks.shape[1]) * width
    valid = walks >= 0
    if not links:
        return nodes, valid
    span = width * walks.shape[1]
    return nodes[:, :-1] * span + nodes[:, 1:], valid[:, 1:] & valid[:, :-1]


def _single_walks(visitors, walk_of, n_walks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct walk, the visitors whose walks are all that walk; and the rows of the other
    visitors' walks."""
    member, first, _ = groups_of(visitors)
    several = spread_rows(member, len(first), walk_of)
    alone = first[~several[first]]  # one row of each visitor with a single distinct walk
    return np.bincount(walk_of[alone], minlength=n_walks), np.flatnonzero(several)


def _visitors_by_key(walks, visitors, unique, single, rows, width: int, *, links: bool):
    """The keys of every node (or link) of the walks, and their distinct visitors. A visitor
    whose walks are all the same walk counts once in each of its nodes: those visitors are
    counted per distinct walk (`single`: no sort of their rows); only the others' (node,
    visitor) pairs (`rows`) are deduplicated."""
    keys, valid = _keys(unique, width, links=links)
    weights = np.broadcast_to(single[:, None], keys.shape)[valid]
    keys = keys[valid]
    spread_keys, spread_valid = _keys(walks[rows], width, links=links)
    who = np.broadcast_to(visitors[rows][:, None], spread_keys.shape)[spread_valid]
    found, counts = distinct_by_key(spread_keys[spread_valid], who)
    keys, weights = np.r_[keys, found], np.r_[weights, counts]
    size = (width * walks.shape[1]) ** (2 if links else 1)  # keys are below this
    if size <= 4 * len(keys) + 65_536:  # a count per possible key
        totals = np.bincount(keys, weights=weights, minlength=size)
        every = np.flatnonzero(totals)
        totals = totals[every]
    else:
        every, at = np.unique(keys, return_inverse=True)
        totals = np.bincount(at, weights=weights, minlength=len(every))
        every, totals = every[totals > 0], totals[totals > 0]
    return every, totals.astype(np.int64)


def _journey_graph(walks: np.ndarray, visitors: np.ndarray, names: list[str]) -> dict:
    if not len(walks):
        return {"paths": [], "nodes": [], "links": []}
    unique, walk_of = _unique_rows(walks, len(names) + 1)
    single, several = _single_walks(visitors, walk_of, len(unique))
    counts = single.copy()  # distinct visitors per walk: those of a single walk, and the others
    present, distinct = distinct_by_key(walk_of[several], visitors[several])
    counts[present] += distinct
    top = [
        (int(counts[i]), [names[c] for c in unique[i] if c >= 0])
        for i in _top(unique, counts, names)
    ]
    width, steps = len(names), walks.shape[1]
    shared = (walks, visitors, unique, single, several, width)
    ranks = string_ranks(names)
    ids = [f"{key // width}:{names[key % width]}" for key in range(width * steps)]
    nodes, counted = _visitors_by_key(*shared, links=False)
    nodes_in_order = np.lexsort((ranks[nodes % width], nodes // width))
    links, linked = _visitors_by_key(*shared, links=True)
    source, target = np.divmod(links, width * steps)
    by_name = (ranks[target % width], target // width, ranks[source % width], source // width)
    links_in_order = np.lexsort(by_name)
    return {
        "paths": [{"path": path, "visitors": count} for count, path in top],
        "nodes": [
            {"id": ids[key], "name": names[key % width], "step": key // width, "visitors": v}
            for key, v in zip(
                nodes[nodes_in_order].tolist(), counted[nodes_in_order].tolist(), strict=True
            )
        ],
        "links": [
            {"source": ids[a], "target": ids[b], "visitors": v}
            for a, b, v in zip(
                source[links_in_order].tolist(),
                target[links_in_order].tolist(),
                linked[links_in_order].tolist(),
                strict=True,
            )
        ],
    }
