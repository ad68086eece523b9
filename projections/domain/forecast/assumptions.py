"""From the registry's base window to a projection's assumptions: the one call the
wiring makes per unit and variant.

- Mortality: a unit with a standard (a province against the nation, a small province
  against its region) gets Brass's relational model fitted to its deaths (`brass`),
  which smooths and borrows strength at once; a unit without one (the nation) gets its
  raw table, its deaths being plenty in every group.
- Fertility: the window's ASFRs moved to the variant's TFR; the sex ratio at birth
  measured, or the caller's (a small unit should pass its province's).
- Migration: in and out apart (a province), or net counts (`net_only`, a commune).
"""

from __future__ import annotations

from dataclasses import dataclass

from projections.domain.forecast.ages import (
    ABRIDGED_STARTS,
    FERTILE_STARTS,
    five_year_from_abridged,
)
from projections.domain.forecast.brass import BrassFit, fit_brass
from projections.domain.forecast.fertility import (
    DEFAULT_SRB,
    Fertility,
    Variant,
    fertility_from_window,
)
from projections.domain.forecast.inputs import BaseWindow, BySex
from projections.domain.forecast.life_table import (
    LifeTable,
    Sex,
    life_table_from_counts,
    survival_from_life_table,
)
from projections.domain.forecast.migration import (
    Migration,
    migration_from_window,
    net_migration_from_window,
)
from projections.domain.forecast.projection import Assumptions


@dataclass(frozen=True)
class Mortality:
    """Each sex's table, and the Brass fit it came from (None for a raw table)."""

    male: LifeTable
    female: LifeTable
    fit_male: BrassFit | None
    fit_female: BrassFit | None


def mortality_from_window(
    window: BaseWindow,
    standard_male: LifeTable | None = None,
    standard_female: LifeTable | None = None,
) -> Mortality:
    def one(sex: Sex, standard: LifeTable | None) -> tuple[LifeTable, BrassFit | None]:
        deaths, exposures = window.deaths.sex(sex), window.exposures.sex(sex)
        if standard is None:
            return life_table_from_counts(ABRIDGED_STARTS, deaths, exposures, sex), None
        fit = fit_brass(deaths, exposures, standard, sex)
        return fit.table, fit

    male, fit_male = one("male", standard_male)
    female, fit_female = one("female", standard_female)
    return Mortality(male, female, fit_male, fit_female)


def fertility_of_window(window: BaseWindow, *, srb: float | None = None) -> Fertility:
    """Medium-variant fertility of the window; `srb` overrides the measured ratio."""
    women = [window.exposures.female[ABRIDGED_STARTS.index(a)] for a in FERTILE_STARTS]
    measured = fertility_from_window(
        window.births_by_mother_age,
        women,
        window.births_male,
        window.births_female,
        srb_fallback=DEFAULT_SRB if srb is None else srb,
    )
    return measured if srb is None else Fertility(measured.asfr, srb)


def migration_of_window(window: BaseWindow, *, net_only: bool = False) -> Migration:
    if net_only:
        return net_migration_from_window(window.in_migrants, window.out_migrants, window.years)
    exposures = BySex(
        five_year_from_abridged(window.exposures.male),
        five_year_from_abridged(window.exposures.female),
    )
    return migration_from_window(window.in_migrants, window.out_migrants, exposures, window.years)


def assumptions_from_window(
    window: BaseWindow,
    *,
    variant: Variant = "medium",
    standard_male: LifeTable | None = None,
    standard_female: LifeTable | None = None,
    srb: float | None = None,
    net_migration_only: bool = False,
) -> tuple[Assumptions, Mortality]:
    """The assumptions for one variant, and the mortality they came from (its tables are
    what a smaller unit's Brass fit takes as its standard)."""
    mortality = mortality_from_window(window, standard_male, standard_female)
    fertility = fertility_of_window(window, srb=srb)
    assumptions = Assumptions(
        fertility.variant(variant),
        survival_from_life_table(mortality.male),
        survival_from_life_table(mortality.female),
        migration_of_window(window, net_only=net_migration_only),
        mortality.male.e0,
        mortality.female.e0,
        variant,
    )
    return assumptions, mortality
