"""Communes: Hamilton-Perry cohort-change ratios, constrained to the province.

A commune has too few births, deaths and moves for rates of its own, but the registry
gives its population by age and sex on any two dates. Hamilton and Perry (1962) project
with the ratio of each cohort's size five years apart, which folds mortality and
migration into one number (Swanson, Schlottmann & Schmidt 2010; Smith, Tayman & Swanson
2013, ch. 8):

    CCR(x → x+5) = P(x+5, t) / P(x, t-5),     P(x+5, t+5) = CCR x P(x, t);
    the open group: CCR = P(100+, t) / (P(95-99, t-5) + P(100+, t-5));
    0-4: the child-woman ratio P(0-4, t) / W(15-49, t) times the projected W(15-49, t+5).

Then every age-sex cell of the communes is scaled so they sum to the province's
cohort-component projection (one-dimensional raking, exact per cell), so the communes
never contradict the province and the province keeps its components. Wilson & Grossman
(2022) found such constrained ratio methods among the most accurate for small areas.

Weak where a commune is very small or changed fast in the base period (a new housing
estate, a resettlement): its ratios carry that change forward. A ratio with no one in
its denominator takes the province's (all communes') ratio instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from projections.domain.forecast.ages import group_sum
from projections.domain.forecast.inputs import BySex

WOMEN_LOW, WOMEN_HIGH = 15, 45  # W(15-49): the groups 15-19 … 45-49


@dataclass(frozen=True)
class ChangeRatios:
    """One commune's (or the province's) ratios for one sex: `cohort[i]` takes group i
    to i+1 (the last one the last two groups into the open group); `child` is 0-4 per
    woman 15-49."""

    cohort: tuple[float, ...]
    child: float


def _ratios(
    earlier: Sequence[float], later: Sequence[float], women_later: float
) -> tuple[list[float | None], float | None]:
    """The cohort ratios and the child-woman ratio; None where there is no denominator."""
    k = len(later)
    out: list[float | None] = []
    for i in range(k - 1):
        before = earlier[i] if i < k - 2 else earlier[k - 2] + earlier[k - 1]
        out.append(later[i + 1] / before if before > 0 else None)
    child = later[0] / women_later if women_later > 0 else None
    return out, child


def change_ratios(
    earlier: Mapping[str, BySex], later: Mapping[str, BySex], starts: Sequence[int]
) -> dict[str, tuple[ChangeRatios, ChangeRatios]]:
    """Each commune's ratios (male, female) from its populations on two dates five years
    apart; a ratio without a denominator borrows the all-communes ratio."""
    codes = sorted(later)
    total_earlier = summed([earlier[c] for c in codes])
    total_later = summed([later[c] for c in codes])
    result: dict[str, tuple[ChangeRatios, ChangeRatios]] = {}
    for code in codes:
        pair = []
        for sex in ("male", "female"):
            own, child = _ratios(
                earlier[code].sex(sex), later[code].sex(sex), _women(later[code], starts)
            )
            pooled, pooled_child = _ratios(
                total_earlier.sex(sex), total_later.sex(sex), _women(total_later, starts)
            )
            pair.append(
                ChangeRatios(
                    tuple(
                        o if o is not None else (p if p is not None else 0.0)
                        for o, p in zip(own, pooled, strict=True)
                    ),
                    child if child is not None else (pooled_child or 0.0),
                )
            )
        result[code] = (pair[0], pair[1])
    return result


def hamilton_perry_step(
    population: BySex, ratios: tuple[ChangeRatios, ChangeRatios], starts: Sequence[int]
) -> BySex:
    """One five-year step of one commune, unconstrained."""

    def older(p: Sequence[float], r: ChangeRatios) -> list[float]:
        k = len(p)
        return [r.cohort[i] * (p[i] if i < k - 2 else p[k - 2] + p[k - 1]) for i in range(k - 1)]

    male, female = older(population.male, ratios[0]), older(population.female, ratios[1])
    women = group_sum([0.0, *female], starts, WOMEN_LOW, WOMEN_HIGH)
    return BySex((ratios[0].child * women, *male), (ratios[1].child * women, *female))


def rake(communes: Mapping[str, BySex], target: BySex) -> dict[str, BySex]:
    """Scale every age-sex cell of the communes so they sum to the target's cell. A cell
    the communes have nobody in, but the target has, is shared by the communes' total
    populations."""
    codes = sorted(communes)
    sizes = {c: communes[c].total() for c in codes}
    all_sizes = sum(sizes.values())

    def cell(sex: str, i: int) -> dict[str, float]:
        goal = target.sex(sex)[i]
        values = {c: communes[c].sex(sex)[i] for c in codes}
        have = math.fsum(values.values())
        if have > 0:
            return {c: v * goal / have for c, v in values.items()}
        shares = {c: (sizes[c] / all_sizes if all_sizes > 0 else 1 / len(codes)) for c in codes}
        return {c: goal * s for c, s in shares.items()}

    k = len(target)
    male = [cell("male", i) for i in range(k)]
    female = [cell("female", i) for i in range(k)]
    return {c: BySex(tuple(m[c] for m in male), tuple(f[c] for f in female)) for c in codes}


def round_to_total(values: Mapping[str, float], total: int) -> dict[str, int]:
    """Whole persons that sum exactly to `total`: each value's floor, and the persons
    left over to the largest remainders (Hamilton's method), ties by code."""
    floors = {c: math.floor(v) for c, v in values.items()}
    left = total - sum(floors.values())
    if left < 0 or left > len(values):
        raise ValueError("the values do not sum to the total")
    order = sorted(values, key=lambda c: (-(values[c] - floors[c]), c))
    return {c: floors[c] + (1 if c in order[:left] else 0) for c in values}


def whole_persons(
    communes: Mapping[str, BySex],
) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
    """Raked communes in whole persons, each age-sex cell summing exactly to the
    province's cell rounded to whole persons: what a published table needs."""
    codes = sorted(communes)
    k = len(communes[codes[0]])
    out: dict[str, tuple[list[int], list[int]]] = {c: ([], []) for c in codes}
    for s, sex in enumerate(("male", "female")):
        for i in range(k):
            values = {c: communes[c].sex(sex)[i] for c in codes}
            rounded = round_to_total(values, round(math.fsum(values.values())))
            for c in codes:
                out[c][s].append(rounded[c])
    return {c: (tuple(m), tuple(f)) for c, (m, f) in out.items()}


def project_communes(
    earlier: Mapping[str, BySex],
    base: Mapping[str, BySex],
    province_steps: Sequence[BySex],
    starts: Sequence[int],
) -> tuple[dict[str, BySex], ...]:
    """The communes at each of the province's step dates: Hamilton-Perry with the base
    period's ratios held constant, raked to the province's population of that step."""
    if set(earlier) != set(base):
        raise ValueError("the two base populations have different communes")
    ratios = change_ratios(earlier, base, starts)
    current: Mapping[str, BySex] = base
    out: list[dict[str, BySex]] = []
    for target in province_steps:
        stepped = {c: hamilton_perry_step(current[c], ratios[c], starts) for c in current}
        raked = rake(stepped, target)
        out.append(raked)
        current = raked
    return tuple(out)


def _women(population: BySex, starts: Sequence[int]) -> float:
    return group_sum(population.female, starts, WOMEN_LOW, WOMEN_HIGH)


def summed(populations: Sequence[BySex]) -> BySex:
    """Every cell summed over the populations (the province's, from its communes')."""
    return BySex(
        tuple(math.fsum(v) for v in zip(*(p.male for p in populations), strict=True)),
        tuple(math.fsum(v) for v in zip(*(p.female for p in populations), strict=True)),
    )
