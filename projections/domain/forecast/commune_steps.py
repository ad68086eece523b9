"""A commune's projection as the command prints it: its Hamilton-Perry populations,
raked to the province (`small_area.project_communes`), with the province's births,
deaths and net migrants shared out among its communes.

Cohort-change ratios give a commune's population at each step but not the components
(they fold deaths and migration into one number). The planners' table wants them, and
they must add up: a commune's share of the province's step births is its share of the
province's 0-4 of that sex at the step's end; its share of a cohort's deaths is its
share of that cohort at the step's start; its net migrants are what is left, so every
cohort balances (end = start + births - deaths + net migrants) and, because the raked
cells sum to the province's, the communes' births, deaths and migrants sum to the
province's. Net migrants are recorded by the cohort's group at the step's end, not at
the move. The commune's TFR and life expectancy are the province's assumptions, which
the raking imposes on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from projections.domain.forecast.inputs import BasePopulation, BySex
from projections.domain.forecast.projection import CohortAccount, Projection, Step
from projections.domain.forecast.small_area import summed


def _share(part: float, whole: float) -> float:
    return part / whole if whole > 0 else 0.0


def _cohort_groups(j: int, k: int) -> tuple[int, ...]:
    """The start groups of the cohort that ends in group j (none: born in the step)."""
    if j == 0:
        return ()
    return (j - 1,) if j < k - 1 else (k - 2, k - 1)


def _commune_step(province: Step, all_start: BySex, start: BySex, end: BySex) -> Step:
    """`all_start` is every commune's start summed: the province's at the step's start."""
    k = len(end)
    births: list[float] = []
    deaths: dict[str, list[float]] = {}
    net: dict[str, list[float]] = {}
    accounts: list[CohortAccount] = []
    for sex in ("male", "female"):
        newborn = end.sex(sex)[0]
        born = province.births.sex(sex)[0] * _share(newborn, province.population.sex(sex)[0])
        births.append(born)
        deaths[sex], net[sex] = [], []
        for j in range(k):
            groups = _cohort_groups(j, k)
            began = sum(start.sex(sex)[g] for g in groups)
            if groups:
                of = sum(all_start.sex(sex)[g] for g in groups)
                died = province.deaths.sex(sex)[j] * _share(began, of)
            else:
                died = province.deaths.sex(sex)[0] * _share(born, province.births.sex(sex)[0])
            entered = born if j == 0 else 0.0
            migrants = end.sex(sex)[j] - began - entered + died
            deaths[sex].append(died)
            net[sex].append(migrants)
            accounts.append(
                CohortAccount(sex, groups, j, began, entered, died, migrants, end.sex(sex)[j])
            )
    share = _share(sum(births), province.births_total)
    return Step(
        province.start,
        province.end,
        province.years,
        end,
        tuple(b * share for b in province.births_by_mother_age),
        BySex((births[0],), (births[1],)),
        BySex(tuple(deaths["male"]), tuple(deaths["female"])),
        BySex(tuple(net["male"]), tuple(net["female"])),
        tuple(accounts),
    )


def commune_projections(
    province: Projection, base: Mapping[str, BySex], steps: Sequence[Mapping[str, BySex]]
) -> dict[str, Projection]:
    """Each commune's projection from its base population and its raked population at
    each of the province's steps (as many as the province has)."""
    if len(steps) != len(province.steps):
        raise ValueError("the communes and the province have different steps")
    starts = [
        summed(list(base.values())),
        *(summed(list(communes.values())) for communes in steps[:-1]),
    ]
    found = {}
    for code, own_base in base.items():
        out: list[Step] = []
        start = own_base
        for step, communes, all_start in zip(province.steps, steps, starts, strict=True):
            out.append(_commune_step(step, all_start, start, communes[code]))
            start = communes[code]
        found[code] = Projection(
            BasePopulation(province.base.on, own_base, province.base.starts),
            province.assumptions,
            tuple(out),
        )
    return found
