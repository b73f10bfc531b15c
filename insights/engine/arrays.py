"""Array helpers the reports share: ratios, medians, distinct counts, per-group first and last."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

LEFT = "(left)"
DIRECT = "(direct)"
UNKNOWN = "(unknown)"
NONE = np.iinfo(np.int64).max
DENSE_CELLS = 30_000_000  # (group x member) pairs counted with a boolean matrix below this


def ratio(part: float, whole: float) -> float:
    return round(float(part) / float(whole), 4) if whole else 0.0  # Python's rounding


def median(values: Sequence) -> float | int | None:
    return statistics.median(values) if len(values) else None


def distinct_counts(groups: np.ndarray, members: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, the number of distinct members among the (group, member) pairs."""
    if not len(groups):
        return np.zeros(n_groups, dtype=np.int64)
    n_members = int(members.max()) + 1
    if n_groups * n_members <= DENSE_CELLS:
        seen = np.zeros((n_groups, n_members), dtype=bool)
        seen[groups, members] = True
        return seen.sum(axis=1)
    counts = np.zeros(n_groups, dtype=np.int64)
    present, distinct = distinct_by_key(groups, members)
    counts[present] = distinct
    return counts


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
