"""The age grids the forecast works on, and the small sums over them.

The population is projected in five-year groups 0-4 … 95-99 and an open group 100+ (21
groups, the registry's pyramid), because a five-year step moves every survivor exactly one
group on and the registry's small units cannot carry single-year detail. The life table
is abridged (0, 1-4, 5-9 … 95-99, 100+: 22 groups), because mortality in the first year
differs too much from ages 1-4 to share a rate with them. Every function here takes the
grid's first ages, so the engine also runs on other grids (the published Swedish example
stops at 85+).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

OPEN_AGE = 100
FIVE_YEAR_STARTS: tuple[int, ...] = tuple(range(0, OPEN_AGE + 1, 5))  # 0, 5, … 100 (21)
ABRIDGED_STARTS: tuple[int, ...] = (0, 1, *range(5, OPEN_AGE + 1, 5))  # 0, 1, 5, … 100 (22)
FERTILE_STARTS: tuple[int, ...] = (15, 20, 25, 30, 35, 40, 45)  # 15-19 … 45-49
STEP_YEARS = 5


def labels(starts: Sequence[int]) -> tuple[str, ...]:
    """'0-4', '5-9' … and '100+' for the open last group."""
    closed = [f"{a}-{b - 1}" for a, b in pairwise(starts)]
    return (*closed, f"{starts[-1]}+")


def widths(starts: Sequence[int]) -> tuple[int | None, ...]:
    """Each group's width in years; None for the open last group."""
    return (*(b - a for a, b in pairwise(starts)), None)


def check_five_year(starts: Sequence[int]) -> None:
    """A projection grid must be five-year groups from 0, open at the end: a step of five
    years then moves each cohort exactly one group on."""
    if starts[0] != 0 or any(b - a != STEP_YEARS for a, b in pairwise(starts)):
        raise ValueError(f"not five-year groups from 0: {list(starts)}")


def five_year_from_abridged(values: Sequence[float]) -> tuple[float, ...]:
    """Counts on the abridged grid (0, 1-4, 5-9 …) summed onto the five-year grid (0-4,
    5-9 …): the first two groups add up, the rest are the same groups."""
    if len(values) < 3:
        raise ValueError("an abridged grid has at least 0, 1-4 and an open group")
    return (values[0] + values[1], *values[2:])


def group_sum(values: Sequence[float], starts: Sequence[int], low: int, high: int) -> float:
    """The sum over the groups whose first age is in [low, high]."""
    return sum(v for v, a in zip(values, starts, strict=True) if low <= a <= high)
