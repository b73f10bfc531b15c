"""How far each visitor got in a funnel, for every visitor at once (the semantics of
`insights.funnel`, vectorized): `ordered`, `strict` and `any`.

Input: `Hits`, the events that reached a stage below n, in (visitor, ts, event_id) order. Each
function returns, per *attempt*, the visitor, the level reached and the gaps (ms) between the
last two stages of the attempt's earliest path to each level (column k-1 for level k; none for
`any`; `timed=False`: none wanted, which `ordered` then skips). Attempts are in hit order, so
a visitor's first attempt reaching level k (whose path `funnel.ordered_reach` reports) is the
first of theirs in the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Hits:
    """Stage hits in (visitor, ts, event_id) order; `masks` holds only the stages below n."""

    ts: np.ndarray
    visitor: np.ndarray
    masks: np.ndarray

    @classmethod
    def of(cls, ts: np.ndarray, visitor: np.ndarray, stages: np.ndarray, n: int) -> Hits:
        """The hits among events given in (ts, event_id) order."""
        masks = stages & ((1 << n) - 1)
        picked = np.flatnonzero(masks)
        order = picked[np.argsort(visitor[picked], kind="stable")]
        return cls(ts[order], visitor[order], masks[order])


Reach = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # visitor, level, gaps per attempt


def _first_with(positions: np.ndarray, hits: Hits, after: np.ndarray, *, strictly: bool):
    """Per index in `after`: the first of `positions` at (or, `strictly`, after) it that
    belongs to the same visitor, and whether there is one."""
    at = np.searchsorted(positions, after, side="right" if strictly else "left")
    if not len(positions):
        return after, np.zeros(len(after), dtype=bool)
    found = positions[np.minimum(at, len(positions) - 1)]
    return found, (at < len(positions)) & (hits.visitor[found] == hits.visitor[after])


def ordered(hits: Hits, n: int, window_ms: int, *, timed: bool = True) -> Reach:
    """Every stage-1 hit is an attempt, followed greedily: at each stage the earliest
    later-or-same hit reaching it within the window (`funnel._ordered_from`). Only the attempts
    still going are followed; `timed=False`: no gaps (levels only)."""
    starts = np.flatnonzero(hits.masks & 1)
    level = np.ones(len(starts), dtype=np.int64)
    times = np.zeros((len(starts), n), dtype=np.int64) if timed else None
    going, pos, limit = np.arange(len(starts)), starts, hits.ts[starts] + window_ms
    if times is not None:
        times[:, 0] = hits.ts[starts]
    for k in range(1, n):
        reaching = np.flatnonzero(hits.masks & (1 << k))
        candidate, found = _first_with(reaching, hits, pos, strictly=False)
        found &= hits.ts[candidate] <= limit
        going, pos, limit = going[found], candidate[found], limit[found]
        level[going] += 1
        if times is not None:
            times[going, k] = hits.ts[pos]
    if times is None:
        return hits.visitor[starts], level, None
    gaps = np.zeros_like(times)
    gaps[:, 1:] = times[:, 1:] - times[:, :-1]
    return hits.visitor[starts], level, gaps


def strict(hits: Hits, n: int, window_ms: int, *, timed: bool = True) -> Reach:
    """`funnel._strict_from` for every attempt at once. From the hit p that reached stage k-1,
    stage k is reached by p itself, or by the first later hit q that is not a mere repeat of
    stage k-1 (none may be crossed), each within the window. Both may hold, so an attempt is a
    set of states (hit, earliest path to it), stage by stage."""
    starts = np.flatnonzero(hits.masks & 1)
    limit = hits.ts[starts] + window_ms
    level = np.ones(len(starts), dtype=np.int64)
    gaps = np.zeros((len(starts), n), dtype=np.int64)
    attempt, pos = np.arange(len(starts)), starts
    path = hits.ts[starts][:, None]
    for k in range(1, n):
        reaches = hits.masks & (1 << k) != 0
        stay = reaches[pos]
        other = np.flatnonzero(hits.masks != 1 << (k - 1))
        q, move = _first_with(other, hits, pos, strictly=True)
        move &= reaches[q] & (hits.ts[q] <= limit[attempt])
        attempt = np.r_[attempt[stay], attempt[move]]
        pos = np.r_[pos[stay], q[move]]
        path = np.c_[np.r_[path[stay], path[move]], hits.ts[pos]]
        if not len(pos):
            break
        keep = _earliest((attempt, pos), path, len(starts))  # one state per hit
        attempt, pos, path = attempt[keep], pos[keep], path[keep]
        best = _earliest((attempt,), path, len(starts))
        level[attempt[best]] = k + 1
        gaps[attempt[best], k] = path[best, -1] - path[best, -2]
    return hits.visitor[starts], level, gaps


def _earliest(groups: tuple[np.ndarray, ...], path: np.ndarray, attempts: int) -> np.ndarray:
    """Indexes of the rows with the lexicographically earliest path in each group (rows with
    equal `groups` keys, the attempt first). Only the rows of attempts with several rows are
    sorted (few: most attempts follow one path)."""
    attempt = groups[0]
    several = np.bincount(attempt, minlength=attempts)[attempt] > 1
    if not several.any():
        return np.arange(len(attempt))
    rows = np.flatnonzero(several)
    order = rows[np.lexsort((*path[rows].T[::-1], *(keys[rows] for keys in groups[::-1])))]
    keys = np.stack([keys[order] for keys in groups], axis=1)
    first = np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]
    return np.sort(np.r_[np.flatnonzero(~several), order[first]])


def any_order(hits: Hits, n: int, window_ms: int, *, timed: bool = False) -> Reach:
    """`funnel.any_order_reach`: from every hit as the window's first, the stages 1..k each
    hit at or after it within the window; an attempt per hit."""
    index = np.arange(len(hits.ts))
    level = np.zeros(len(index), dtype=np.int64)
    alive = np.ones(len(index), dtype=bool)
    for s in range(n):
        found, same = _first_with(np.flatnonzero(hits.masks >> s & 1), hits, index, strictly=False)
        alive &= same & (hits.ts[found] <= hits.ts + window_ms)
        level += alive
    return hits.visitor, level, None


REACH = {"ordered": ordered, "strict": strict, "any": any_order}
