"""Migration: net migrants by age and sex for a projection step.

A province is projected with in- and out-migration apart: in-migrants as counts a year
(people arrive whatever the province's size), out-migration as rates a year of the
province's own population (people leave in proportion to those who could). A commune
needs only its net count a year (its flows are small and mostly within the province,
which `small_area` constrains anyway).

The step's net migrants by age group are `step_years` x (in a year - out rate x the
population at the step's start); `projection` adds half of them at the step's start and
half at its end (the convention of Preston et al. 2001, sect. 6.3, and of the UN's
ccmppWPP "even" assumption): migrants live, on average, half the step in the unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from projections.domain.forecast.inputs import BySex


@dataclass(frozen=True)
class Migration:
    """In-migrants a year (counts, or net counts for a commune; may be negative) and
    out-migration rates a year (per person-year lived in the unit), by age and sex."""

    in_per_year: BySex
    out_rate: BySex

    def __post_init__(self) -> None:
        if len(self.in_per_year) != len(self.out_rate):
            raise ValueError("in and out on different grids")
        if min(*self.out_rate.male, *self.out_rate.female) < 0:
            raise ValueError("a negative out-migration rate")

    @classmethod
    def none(cls, groups: int) -> Migration:
        return cls(BySex.zeros(groups), BySex.zeros(groups))

    def net_for_step(self, population: BySex, step_years: float) -> BySex:
        """Net migrants over a step by age group, from the population at its start."""

        def net(
            inflow: Sequence[float], rate: Sequence[float], p: Sequence[float]
        ) -> tuple[float, ...]:
            return tuple(step_years * (i - r * n) for i, r, n in zip(inflow, rate, p, strict=True))

        return BySex(
            net(self.in_per_year.male, self.out_rate.male, population.male),
            net(self.in_per_year.female, self.out_rate.female, population.female),
        )


def migration_from_window(
    in_migrants: BySex, out_migrants: BySex, exposures: BySex, years: float
) -> Migration:
    """A province's: in-migrants a year; out-migrants over person-years (five-year grid)."""

    def rate(out: Sequence[float], e: Sequence[float]) -> tuple[float, ...]:
        return tuple(o / x if x > 0 else 0.0 for o, x in zip(out, e, strict=True))

    return Migration(
        in_migrants.map(lambda v: v / years),
        BySex(rate(out_migrants.male, exposures.male), rate(out_migrants.female, exposures.female)),
    )


def net_migration_from_window(in_migrants: BySex, out_migrants: BySex, years: float) -> Migration:
    """A commune's: net migrants a year as counts, no rates."""
    net = BySex(
        tuple((i - o) / years for i, o in zip(in_migrants.male, out_migrants.male, strict=True)),
        tuple(
            (i - o) / years for i, o in zip(in_migrants.female, out_migrants.female, strict=True)
        ),
    )
    return Migration(net, BySex.zeros(len(net)))
