"""The vectorized funnel (every visitor at once) against `insights.funnel`, visitor by visitor."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from insights.engine.reach import REACH, Hits
from insights.funnel import visitor_reach

N = 4
visitor_hits = st.lists(
    st.tuples(st.integers(0, 30), st.frozensets(st.integers(0, N), min_size=1, max_size=3)),
    min_size=1,
    max_size=9,
)


def as_hits(visitors: list[list[tuple[int, frozenset[int]]]]) -> tuple[Hits, list[list]]:
    """The hits of several visitors (each visitor's in (ts, event id) order), as the engine
    and as `visitor_reach` take them. Stage N is beyond the funnel: only some hits count."""
    rows, per_visitor = [], []
    for code, hits in enumerate(visitors):
        ordered = sorted(
            ((ts, f"e{i:02d}", stages) for i, (ts, stages) in enumerate(hits)),
            key=lambda hit: hit[:2],
        )
        rows += [(code, ts, sum(1 << s for s in stages)) for ts, _, stages in ordered]
        per_visitor.append([(ts, i, s - {N}) for ts, i, s in ordered if s - {N}])
    visitor, ts, stages = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    by_time = np.lexsort((visitor, ts))  # (ts, then anything): Hits.of sorts by visitor, stably
    hits = Hits.of(ts[by_time], visitor[by_time], stages[by_time], N)
    return hits, per_visitor


@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
@settings(max_examples=400, deadline=None)
@given(visitors=st.lists(visitor_hits, min_size=1, max_size=6), window=st.integers(0, 20))
def test_every_visitors_level_and_timings_match_the_per_visitor_semantics(order, visitors, window):
    hits, per_visitor = as_hits(visitors)

    visitor, level, gaps = REACH[order](hits, N, window)

    for code, own in enumerate(per_visitor):
        expected = visitor_reach(own, n=N, window_ms=window, order=order)
        mine = np.flatnonzero(visitor == code)
        assert int(level[mine].max(initial=0)) == expected.level
        if order == "any":
            assert gaps is None
            continue
        for k in range(2, expected.level + 1):
            first = mine[level[mine] >= k][0]  # the visitor's first attempt reaching k
            times = expected.times[k]
            assert gaps[first, k - 1] == times[-1] - times[-2]


def test_strict_keeps_both_ways_on_when_one_event_reaches_two_stages():
    # hits of stages {1, 2}, {1}, {2, 3} (1-based): stage 2 is reached earliest by the first
    # hit, but from there stage 3 lies across a repeat of stage 1, which strict forbids; stage
    # 2 reached by the third hit leads on to stage 3 at the same hit.
    hits, per_visitor = as_hits([[(0, frozenset({0, 1})), (5, frozenset({0})),
                                  (9, frozenset({1, 2}))]])  # fmt: skip

    _, level, gaps = REACH["strict"](hits, N, 100)

    assert level.max() == visitor_reach(per_visitor[0], n=N, window_ms=100, order="strict").level
    assert level.max() == 3 and gaps[0, 1] == 0 and gaps[0, 2] == 0
