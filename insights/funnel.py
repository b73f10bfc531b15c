"""Funnel semantics, one pass per visitor over their time-ordered stage hits.

A *hit* is an event that reached one or more stages: (ts, event_id, stages). A visitor counts at
stage k (1-based) when stages 1..k were reached within the window, in the configured order mode:

- ``ordered``: hits h1, h2, ..., hk with ts non-decreasing (one event may serve consecutive
  stages), hi reaching stage i, and ts(hk) - ts(h1) <= window. Other events may come between.
- ``strict``: as ordered, and between the hit of stage i and the hit of stage i+1 the visitor
  hit no stage other than i itself (repeats of the current stage are allowed).
- ``any``: hits of each of stages 1..k, in any order, all within one window (max ts - min ts
  <= window).

For ordered and strict, the path that counts is the lexicographically earliest one (earliest
start, then earliest next hit); `seconds_from_previous` are measured on it. Order-free funnels
have no "previous" stage, so they report no timings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Hit = tuple[int, str, frozenset[int]]  # (ts, event_id, 0-based stages reached)


@dataclass
class Reach:
    """How far one visitor got: `level` stages, and per level the earliest path's times."""

    level: int = 0
    times: dict[int, list[int]] = field(default_factory=dict)  # level k -> ts of stages 1..k


def _ordered_from(hits: Sequence[Hit], start: int, n: int, window: int) -> list[int]:
    """Greedy earliest path from the stage-1 hit at index `start`; returns its hit times.
    Without the strict rule, the earliest next hit is always the best choice."""
    times = [hits[start][0]]
    limit = hits[start][0] + window
    level = 1
    for ts, _, stages in hits[start:]:
        if ts > limit:
            break
        while level < n and level in stages:
            times.append(ts)
            level += 1
        if level >= n:
            break
    return times


def _strict_from(hits: Sequence[Hit], start: int, n: int, window: int) -> list[list[int]]:
    """Strict paths from `start`, stage by stage: a hit of stage i may follow the chosen hit of
    stage i-1 only across events that hit nothing but stage i-1. Keeps, per candidate hit, the
    lexicographically earliest path; returns, per level reached, its earliest path."""
    limit = hits[start][0] + window
    paths: dict[int, list[int]] = {start: [hits[start][0]]}
    earliest = [paths[start]]
    for stage in range(1, n):
        reached: dict[int, list[int]] = {}
        for previous, path in sorted(paths.items()):
            for j in range(previous, len(hits)):
                ts, _, stages = hits[j]
                if ts > limit:
                    break
                if stage in stages:
                    candidate = [*path, ts]
                    if j not in reached or candidate < reached[j]:
                        reached[j] = candidate
                if j > previous and not stages <= {stage - 1}:
                    break  # a hit of another stage: no crossing it
        if not reached:
            break
        paths = reached
        earliest.append(min(reached.values()))
    return earliest


def ordered_reach(hits: Sequence[Hit], n: int, window: int, *, strict: bool) -> Reach:
    reach = Reach()
    for start, (_, _, stages) in enumerate(hits):
        if 0 not in stages:
            continue
        if strict:
            per_level = _strict_from(hits, start, n, window)
        else:
            times = _ordered_from(hits, start, n, window)
            per_level = [times[:level] for level in range(1, len(times) + 1)]
        for level in range(reach.level + 1, len(per_level) + 1):
            reach.times[level] = per_level[level - 1]
        reach.level = max(reach.level, len(per_level))
        if reach.level == n:
            break
    return reach


def any_order_reach(hits: Sequence[Hit], n: int, window: int) -> Reach:
    """Largest k such that some window holds a hit of each of stages 1..k."""
    best = 0
    right = 0
    counts = [0] * n
    for left in range(len(hits)):
        while right < len(hits) and hits[right][0] - hits[left][0] <= window:
            for stage in hits[right][2]:
                if stage < n:
                    counts[stage] += 1
            right += 1
        level = 0
        while level < n and counts[level] > 0:
            level += 1
        best = max(best, level)
        for stage in hits[left][2]:
            if stage < n:
                counts[stage] -= 1
    return Reach(level=best)


def visitor_reach(hits: Sequence[Hit], *, n: int, window_ms: int, order: str) -> Reach:
    """`hits` sorted by (ts, event_id)."""
    if order == "any":
        return any_order_reach(hits, n, window_ms)
    return ordered_reach(hits, n, window_ms, strict=order == "strict")
