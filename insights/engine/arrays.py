"""Array helpers the reports share: ratios, medians, distinct counts, per-group first and last."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from eventstore.rollups import groups_of

LEFT = "(left)"
DIRECT = "(direct)"
UNKNOWN = "(unknown)"
NONE = np.iinfo(np.int64).max
BITMAP_CELLS = 1 << 26  # distinct counts by a (group, member) bitmap up to this many cells


def ratio(part: float, whole: float) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0  # Python's rounding


def median(values: Sequence | np.ndarray) -> float | int | None:
    """statistics.median (the middle value, or the mean of the two middle ones); of an array,
    by a partial sort."""
    if not isinstance(values, np.ndarray):
        return statistics.median(values) if len(values) else None
    n = len(values)
    if not n:
        return None
    half = n // 2
    middle = np.partition(values, [half - 1, half] if n % 2 == 0 and n > 1 else [half])
    if n % 2:
        return middle[half].item()
    return (middle[half - 1].item() + middle[half].item()) / 2


def distinct_counts(groups: np.ndarray, members: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the number of distinct members among the (group, member) pairs. Members
    paired with one group only are counted without sorting; only the others' pairs are."""
    counts = np.zeros(n_groups, dtype=np.int64)
    if not len(groups):
        return counts
    n_members = int(members.max()) + 1
    if n_groups * n_members <= BITMAP_CELLS:  # few groups: a bitmap, no sort
        seen = np.zeros((n_groups, n_members), dtype=bool)
        seen[groups, members] = True
        return np.count_nonzero(seen, axis=1).astype(np.int64)
    member, first, _ = groups_of(members)
    spread = spread_rows(member, len(first), groups)
    alone = first[~spread[first]]  # one row per member found with one group only
    counts += np.bincount(groups[alone], minlength=n_groups)
    present, distinct = distinct_by_key(groups[spread], member[spread])
    counts[present] += distinct
    return counts


def distinct_pair_counts(
    groups: np.ndarray, members: np.ndarray, n_groups: int, offsets: np.ndarray
) -> np.ndarray:
    """`distinct_counts` of pairs that are distinct within each piece (`offsets`: where each
    piece's rows start): only the pairs of members found in several pieces are sorted."""
    counts = np.zeros(n_groups, dtype=np.int64)
    if not len(groups):
        return counts
    piece = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    member, first, _ = groups_of(members)
    spread = spread_rows(member, len(first), piece)
    counts += np.bincount(groups[~spread], minlength=n_groups)  # distinct pairs already
    present, distinct = distinct_by_key(groups[spread], member[spread])
    counts[present] += distinct
    return counts


def spread_codes(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per row: are the rows of its code (>= 0) in more than one run? `offsets`: where each
    piece's rows start (and the end). In pieces sorted by code, a code's rows are one run unless
    several pieces hold it: only those are spread."""
    n = len(codes)
    if not n:
        return np.zeros(0, dtype=bool)
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.not_equal(codes[1:], codes[:-1], out=starts[1:])
    inner = np.asarray(offsets[1:-1])
    starts[inner[inner < n]] = True
    return (np.bincount(codes[starts]) > 1)[codes]


def group_index(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group (its code's rank among the distinct codes) and the distinct codes, in
    order: `groups_of` without the first and last rows (dense codes: a bitmap, no sort)."""
    if len(codes) and int(codes.min()) >= 0 and int(codes.max()) <= 4 * len(codes) + 4096:
        present = np.zeros(int(codes.max()) + 1, dtype=bool)
        present[codes] = True
        rank = np.cumsum(present, dtype=np.int64) - 1
        return rank[codes], np.flatnonzero(present)
    group, first, _ = groups_of(codes)
    return group, codes[first]


def spread_rows(group: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Per row: does its group hold rows with different `values`?"""
    low = np.full(n_groups, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(low, group, values)
    high = np.full(n_groups, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(high, group, values)
    return (low != high)[group]


def best_rows(
    group: np.ndarray,
    n_groups: int,
    keys: Sequence[np.ndarray],
    among: np.ndarray | None = None,
    *,
    largest: bool = False,
) -> np.ndarray:
    """Per group, the row (among `among`, a mask; default all) whose `keys` are the
    lexicographically smallest (`largest`: largest); -1 for a group without such a row. Only
    the rows of groups with several are compared."""
    rows = np.arange(len(group)) if among is None else np.flatnonzero(among)
    g = group[rows]
    best = np.full(n_groups, -1, dtype=np.int64)
    several = np.bincount(g, minlength=n_groups)[g] > 1
    best[g[~several]] = rows[~several]
    rows, g = rows[several], g[several]
    for key in keys:
        values = key[rows]
        bound = np.iinfo(values.dtype)
        target = np.full(n_groups, bound.min if largest else bound.max, dtype=values.dtype)
        (np.maximum if largest else np.minimum).at(target, g, values)
        keep = values == target[g]
        rows, g = rows[keep], g[keep]
    best[g] = rows  # rows equal in every key: any of them
    return best


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (faster here than numpy's hash-based unique for int64)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def string_ranks(table: list[str]) -> np.ndarray:
    """rank[code]: the position of the code's string in sorted order."""
    ranks = np.empty(len(table), dtype=np.int64)
    ranks[sorted(range(len(table)), key=table.__getitem__)] = np.arange(len(table))
    return ranks


def first_at(size: int, groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(size, NONE, dtype=np.int64)
    np.minimum.at(out, groups, values)
    return out


def last_at(size: int, groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(size, -1, dtype=np.int64)
    np.maximum.at(out, groups, values)
    return out


def pick(values: np.ndarray, index: np.ndarray, found: np.ndarray, missing: int) -> np.ndarray:
    """values[index] where `found`, else `missing` (index may hold anything where not found)."""
    if not len(values):
        return np.full(len(index), missing, dtype=np.int64)
    return np.where(found, values[np.clip(index, 0, len(values) - 1)], missing)


def distinct_by_key(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys, and per key the number of distinct members paired with it."""
    if not len(keys):
        return keys, keys
    n_members = int(members.max()) + 1
    pairs = unique_sorted(keys.astype(np.int64) * n_members + members)
    group = pairs // n_members
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    return group[starts], np.diff(np.r_[starts, len(group)])


def group_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """Where each run of equal codes starts (a boolean mask)."""
    if not len(sorted_codes):
        return np.zeros(0, dtype=bool)
    return np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
