"""The forecast engine's method (issue 33): published worked examples reproduced to
their printed precision, the balancing equation per cohort, fertility variants, Brass's
relational model for small populations, yearly outputs, and Hamilton-Perry communes
constrained to their province. Pure: no store, no stack.

Sources (tests/forecast_examples.py has the numbers):
- Preston, Heuveline & Guillot (2001), Demography: Measuring and Modeling Population
  Processes, Blackwell: Box 3.1 (p. 49), life table of Austrian males, 1992; Box 6.2
  (ch. 6), projection of Sweden's female population 1993-1998 with migration.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from projections.domain.forecast.ages import (
    ABRIDGED_STARTS,
    FERTILE_STARTS,
    FIVE_YEAR_STARTS,
    five_year_from_abridged,
    labels,
)
from projections.domain.forecast.annual import annual_series
from projections.domain.forecast.assumptions import assumptions_from_window
from projections.domain.forecast.brass import brass_table, fit_brass
from projections.domain.forecast.commune_steps import commune_projections
from projections.domain.forecast.fertility import Fertility, Variant, fertility_from_window
from projections.domain.forecast.inputs import BasePopulation, BaseWindow, BySex
from projections.domain.forecast.life_table import (
    Survival,
    infant_ax,
    life_table,
    life_table_from_counts,
    survival_from_life_table,
    survival_from_person_years,
)
from projections.domain.forecast.migration import Migration
from projections.domain.forecast.projection import (
    Projection,
    dependency_ratios,
    project,
    project_step,
    pyramid,
    summaries,
)
from projections.domain.forecast.small_area import (
    change_ratios,
    hamilton_perry_step,
    project_communes,
    whole_persons,
)
from tests import forecast_examples as ex

TOLERANCE = 1e-6  # persons: "to rounding" for sums of floats of a few million


# --- Published examples ----------------------------------------------------------------


def test_the_life_table_reproduces_preston_box_3_1_austria_males_1992() -> None:
    """Preston, Heuveline & Guillot (2001), Box 3.1, p. 49: from the printed deaths,
    mid-year population and nax, every printed lx, ndx and nLx to the person; the open
    interval's a (1/M85) to its three printed decimals; e0 = T0/l0 of the printed nLx
    (72.89) to two decimals."""
    mx = [d / p for d, p in zip(ex.AUSTRIA_DEATHS, ex.AUSTRIA_POPULATION, strict=True)]
    table = life_table(ex.AUSTRIA_STARTS, mx, "male", ax=ex.AUSTRIA_AX)
    assert [round(v) for v in table.lx] == list(ex.AUSTRIA_LX)
    assert [round(v) for v in table.dx] == list(ex.AUSTRIA_DX)
    assert [round(v) for v in table.Lx] == list(ex.AUSTRIA_LLX)
    assert round(table.ax[-1], 3) == ex.AUSTRIA_AX[-1]
    assert round(table.e0, 2) == round(sum(ex.AUSTRIA_LLX) / ex.AUSTRIA_LX[0], 2) == 72.89


def test_the_infant_conventions_give_prestons_1a0_and_4a1() -> None:
    """Box 3.1's 1a0 = 0.068 and 4a1 = 1.626 are the Coale-Demeny male formulas of
    Preston et al.'s Table 3.3 applied to 1M0 = 419 / 47,925."""
    a0, a1 = infant_ax(419 / 47925, "male")
    assert (round(a0, 3), round(a1, 3)) == (0.068, 1.626)
    assert infant_ax(0.2, "female") == (0.350, 1.361)  # the high-mortality branch


def test_the_projection_reproduces_preston_box_6_2_sweden_females_1993_1998() -> None:
    """Preston et al. (2001), Box 6.2: Sweden's women of 1993 projected to 1998 with the
    female 5Lx, the ASFRs, net female migrants (half at the start, half at the end) and
    a sex ratio at birth of 1.05. Every printed birth count by mother's age and every
    printed 1998 female group, 0-4 to 85+, to the person."""
    survival = survival_from_person_years(ex.SWEDEN_FEMALE_LX, ex.SWEDEN_RADIX)
    women = BySex.of(ex.SWEDEN_WOMEN_1993, ex.SWEDEN_WOMEN_1993)
    migrants = BySex.of(ex.SWEDEN_NET_FEMALE_MIGRANTS, ex.SWEDEN_NET_FEMALE_MIGRANTS)
    step = project_step(women, survival, survival, ex.SWEDEN_ASFR, ex.SWEDEN_SRB, migrants)
    fertile = [ex.SWEDEN_STARTS.index(a) for a in FERTILE_STARTS]
    assert [round(step.births_by_mother_age[i]) for i in fertile] == list(
        ex.SWEDEN_BIRTHS_BY_MOTHER_AGE
    )
    assert [round(v) for v in step.population.female] == list(ex.SWEDEN_WOMEN_1998)


# --- The balancing equation ------------------------------------------------------------


def _synthetic_window(
    scale: float = 1.0, in_rate: float = 0.012, out_rate: float = 0.010
) -> BaseWindow:
    """Five years of a province whose rates are known exactly (the counts are the rates
    times the person-years, not draws)."""
    years = 5.0
    population = ex.synthetic_population(scale)
    exposures = ex.abridged_exposures(population, years)
    deaths = BySex(
        tuple(m * e for m, e in zip(ex.synthetic_mx(ABRIDGED_STARTS), exposures.male, strict=True)),
        tuple(
            m * e
            for m, e in zip(
                ex.synthetic_mx(ABRIDGED_STARTS, male=False), exposures.female, strict=True
            )
        ),
    )
    women = [exposures.female[ABRIDGED_STARTS.index(a)] for a in FERTILE_STARTS]
    births = [f * w for f, w in zip(ex.SYNTHETIC_ASFR, women, strict=True)]
    five = BySex(five_year_from_abridged(exposures.male), five_year_from_abridged(exposures.female))
    return BaseWindow(
        years,
        tuple(births),
        sum(births) * 1.12 / 2.12,
        sum(births) / 2.12,
        deaths,
        exposures,
        five.map(lambda e: e * in_rate),
        five.map(lambda e: e * out_rate),
    )


def _synthetic_projection(variant: Variant = "medium", until: int = 2035) -> Projection:
    window = _synthetic_window()
    assumptions, _ = assumptions_from_window(window, variant=variant)
    base = BasePopulation(date(2025, 12, 31), ex.synthetic_population())
    return project(base, assumptions, until)


def test_every_cohort_balances_in_every_step() -> None:
    """end = start + births - deaths + net migrants for every cohort of every step, to
    rounding; each cohort's start is the previous population's groups and its end the
    next population's group; the cohorts add up to the step's totals."""
    projection = _synthetic_projection(until=2040)
    assert [s.end for s in projection.steps] == [
        date(2030, 12, 31),
        date(2035, 12, 31),
        date(2040, 12, 31),
    ]
    previous = projection.base.population
    for step in projection.steps:
        for c in step.cohorts:
            assert c.end == pytest.approx(
                c.start + c.births - c.deaths + c.net_migrants, abs=TOLERANCE
            )
            assert c.start == pytest.approx(
                sum(previous.sex(c.sex)[g] for g in c.start_groups), abs=TOLERANCE
            )
            assert c.end == pytest.approx(step.population.sex(c.sex)[c.end_group], abs=TOLERANCE)
        assert math.fsum(c.deaths for c in step.cohorts) == pytest.approx(
            step.deaths_total, abs=TOLERANCE
        )
        assert math.fsum(c.births for c in step.cohorts) == pytest.approx(
            step.births_total, abs=TOLERANCE
        )
        assert math.fsum(c.net_migrants for c in step.cohorts) == pytest.approx(
            step.net_migration_total, abs=TOLERANCE
        )
        assert step.population.total() == pytest.approx(
            previous.total() + step.births_total - step.deaths_total + step.net_migration_total,
            abs=TOLERANCE,
        )
        assert step.deaths_total > 0 and step.births_total > 0
        previous = step.population


def test_out_migration_larger_than_a_group_is_cut_and_still_balances() -> None:
    """A commune losing more people of an age than it has: no group goes below zero, the
    migrants actually removed are recorded, and every cohort balances."""
    k = len(FIVE_YEAR_STARTS)
    population = BySex.of([10.0] * k, [10.0] * k)
    survival = survival_from_life_table(
        life_table(ABRIDGED_STARTS, ex.synthetic_mx(ABRIDGED_STARTS), "male")
    )
    fertility = Fertility((0.0, 0.1, 0.1, 0.05, 0.0, 0.0, 0.0), 1.05)
    net = BySex.of([-50.0] * k, [-50.0] * k)
    step = project_step(
        population, survival, survival, fertility.on_grid(FIVE_YEAR_STARTS), 1.05, net
    )
    assert min(*step.population.male, *step.population.female) >= 0
    assert step.net_migration_total > net.total()  # cut
    for c in step.cohorts:
        assert c.end == pytest.approx(c.start + c.births - c.deaths + c.net_migrants, abs=TOLERANCE)


def test_a_closed_population_without_deaths_or_births_only_ages() -> None:
    k = len(FIVE_YEAR_STARTS)
    population = ex.synthetic_population()
    no_deaths = Survival(1.0, (1.0,) * (k - 1))
    step = project_step(population, no_deaths, no_deaths, [0.0] * k, 1.05, BySex.zeros(k))
    assert step.population.female[1:-1] == pytest.approx(population.female[:-2])
    assert step.population.female[-1] == pytest.approx(
        population.female[-2] + population.female[-1]
    )
    assert step.population.female[0] == 0


# --- Fertility -------------------------------------------------------------------------


def test_rates_tfr_and_sex_ratio_come_from_the_window() -> None:
    window = _synthetic_window()
    assumptions, mortality = assumptions_from_window(window)
    assert assumptions.fertility.asfr == pytest.approx(ex.SYNTHETIC_ASFR)
    assert assumptions.fertility.tfr == pytest.approx(1.845)
    assert assumptions.fertility.srb == pytest.approx(1.12)
    assert mortality.male.mx == pytest.approx(ex.synthetic_mx(ABRIDGED_STARTS))
    few = fertility_from_window([1, 2, 1, 0, 0, 0, 0], [100] * 7, 3, 1)
    assert few.srb == 1.05  # four births say nothing about the sex ratio


def test_variants_move_the_tfr_by_half_a_child_and_keep_the_age_pattern() -> None:
    medium = Fertility(ex.SYNTHETIC_ASFR, 1.05)
    low, high = medium.variant("low"), medium.variant("high")
    assert [low.tfr, high.tfr] == pytest.approx([1.345, 2.345])
    for v in (low, high):
        assert [a / v.asfr[2] for a in v.asfr] == pytest.approx(
            [a / medium.asfr[2] for a in medium.asfr]
        )
    births = {
        name: _synthetic_projection(name).steps[0].births_total
        for name in ("low", "medium", "high")
    }
    assert births["low"] < births["medium"] < births["high"]
    assert births["high"] / births["medium"] == pytest.approx(2.345 / 1.845, rel=1e-9)


# --- Mortality: Brass's relational model ----------------------------------------------


def test_brass_recovers_known_parameters_from_a_large_population() -> None:
    standard = life_table(ABRIDGED_STARTS, ex.synthetic_mx(ABRIDGED_STARTS, male=False), "female")
    truth = brass_table(standard, 0.3, 1.1, "female")
    exposures = [1e7] * len(ABRIDGED_STARTS)
    deaths = [m * e for m, e in zip(truth.mx, exposures, strict=True)]
    fit = fit_brass(deaths, exposures, standard, "female")
    assert fit.parameters == 2
    assert [fit.alpha, fit.beta] == pytest.approx([0.3, 1.1], abs=1e-4)
    assert fit.table.e0 == pytest.approx(truth.e0, abs=0.01)


def test_a_commune_with_few_deaths_gets_a_sensible_table() -> None:
    """17 women's deaths in 2,600 person-years (the standard expects 18.6): a raw table
    cannot even close (no death at 100+); the Brass fit moves the standard's level a
    little and keeps its shape. With no death at all, the prior keeps it mortal."""
    standard = life_table(ABRIDGED_STARTS, ex.synthetic_mx(ABRIDGED_STARTS, male=False), "female")
    exposures = list(ex.abridged_exposures(ex.synthetic_population(0.005), 5.0).female)
    deaths = [0.0] * len(ABRIDGED_STARTS)
    for age, n in ((0, 1), (55, 1), (65, 2), (70, 2), (75, 3), (80, 3), (85, 3), (90, 2)):
        deaths[ABRIDGED_STARTS.index(age)] = n
    with pytest.raises(ValueError, match="open age group"):
        life_table_from_counts(ABRIDGED_STARTS, deaths, exposures, "female")
    fit = fit_brass(deaths, exposures, standard, "female")
    assert fit.parameters == 1 and fit.beta == 1.0
    assert abs(fit.table.e0 - standard.e0) < 2
    nobody_died = fit_brass([0.0] * len(ABRIDGED_STARTS), exposures, standard, "female")
    assert standard.e0 < nobody_died.table.e0 < standard.e0 + 10  # lighter, not immortal


def test_a_province_is_fitted_against_the_nation() -> None:
    nation = life_table(ABRIDGED_STARTS, ex.synthetic_mx(ABRIDGED_STARTS), "male")
    window = _synthetic_window(scale=0.5)
    heavier = BySex(window.deaths.male, window.deaths.female)
    _, mortality = assumptions_from_window(
        BaseWindow(
            window.years,
            window.births_by_mother_age,
            window.births_male,
            window.births_female,
            heavier.map(lambda d: d * 1.3),
            window.exposures,
            window.in_migrants,
            window.out_migrants,
        ),
        standard_male=nation,
        standard_female=life_table(
            ABRIDGED_STARTS, ex.synthetic_mx(ABRIDGED_STARTS, male=False), "female"
        ),
    )
    assert mortality.fit_male is not None and mortality.fit_male.parameters == 2
    assert mortality.male.e0 < nation.e0  # 30% higher death rates: a shorter life


# --- Outputs ---------------------------------------------------------------------------


def test_yearly_outputs_balance_and_meet_the_steps() -> None:
    projection = _synthetic_projection()
    years = annual_series(projection)
    assert [y.on.year for y in years] == list(range(2026, 2036))
    previous = projection.base.population.total()
    for y in years:
        assert y.population.total() == pytest.approx(
            previous + y.births - y.deaths + y.net_migration, abs=TOLERANCE
        )
        previous = y.population.total()
    assert years[4].population == projection.steps[0].population


def test_summaries_carry_tfr_e0_and_dependency_ratios() -> None:
    projection = _synthetic_projection()
    rows = summaries(projection)
    assert [r.on.year for r in rows] == [2030, 2035]
    assert rows[0].tfr == pytest.approx(1.845)
    assert 60 < rows[0].e0_male < rows[0].e0_female < 90
    d = rows[1].dependency
    assert d.total == pytest.approx(d.young + d.old)
    simple = BySex.of([10, 10, 10, *([10] * 10), *([5] * 8)], [0] * 21)
    ratios = dependency_ratios(simple, FIVE_YEAR_STARTS)
    assert (ratios.young, ratios.old) == (30.0, 40.0)
    rows_of_pyramid = pyramid(projection.steps[-1].population, FIVE_YEAR_STARTS)
    assert rows_of_pyramid[0].age_group == "0-4" and rows_of_pyramid[-1].age_group == "100+"
    assert labels(FIVE_YEAR_STARTS)[-2] == "95-99"


# --- Communes --------------------------------------------------------------------------


def _communes() -> tuple[dict[str, BySex], dict[str, BySex]]:
    earlier, base = {}, {}
    for code, scale, growth in (
        ("00001", 0.30, 1.00),
        ("00002", 0.15, 1.08),
        ("00003", 0.05, 0.90),
    ):
        p = ex.synthetic_population(scale)
        earlier[code] = p
        base[code] = BySex(
            (p.male[0] * growth, *(v * growth * 0.99 for v in p.male[:-1])),
            (p.female[0] * growth, *(v * growth * 0.995 for v in p.female[:-1])),
        )
    base["00003"] = BySex(base["00003"].male, (*base["00003"].female[:-1], 0.0))
    earlier["00003"] = BySex(earlier["00003"].male, (*earlier["00003"].female[:-2], 0.0, 0.0))
    return earlier, base


def _all(communes: dict[str, BySex]) -> BySex:
    def total(sex: str) -> list[float]:
        return [sum(cells) for cells in zip(*(p.sex(sex) for p in communes.values()), strict=True)]

    return BySex.of(total("male"), total("female"))


def test_hamilton_perry_ratios_project_a_commune() -> None:
    earlier, base = _communes()
    ratios = change_ratios(earlier, base, FIVE_YEAR_STARTS)
    male = ratios["00001"][0]
    assert male.cohort[3] == pytest.approx(base["00001"].male[4] / earlier["00001"].male[3])
    stepped = hamilton_perry_step(base["00001"], ratios["00001"], FIVE_YEAR_STARTS)
    assert stepped.male[4] == pytest.approx(male.cohort[3] * base["00001"].male[3])
    # 00003 had no women 95+ five years before: its open-group ratio is all communes'.
    pooled = change_ratios({"all": _all(earlier)}, {"all": _all(base)}, FIVE_YEAR_STARTS)["all"][1]
    assert ratios["00003"][1].cohort[-1] == pytest.approx(pooled.cohort[-1])


def test_communes_sum_to_the_province_in_every_cell_and_step() -> None:
    """Raked: each age-sex cell of the communes sums to the province's projection; in
    whole persons, exactly to the province's cell rounded."""
    earlier, base = _communes()
    province = _synthetic_projection()
    targets = [s.population for s in province.steps]
    projected = project_communes(earlier, base, targets, FIVE_YEAR_STARTS)
    assert len(projected) == 2
    for communes, target in zip(projected, targets, strict=True):
        for sex in ("male", "female"):
            for i in range(len(FIVE_YEAR_STARTS)):
                total = math.fsum(c.sex(sex)[i] for c in communes.values())
                assert total == pytest.approx(target.sex(sex)[i], abs=TOLERANCE)
        whole = whole_persons(communes)
        for s, sex in enumerate(("male", "female")):
            for i in range(len(FIVE_YEAR_STARTS)):
                assert sum(w[s][i] for w in whole.values()) == round(target.sex(sex)[i])
    growing, shrinking = projected[0]["00002"].total(), projected[0]["00003"].total()
    assert growing / base["00002"].total() > shrinking / base["00003"].total()


def test_a_communes_components_are_its_share_and_balance() -> None:
    """The command's communes: every cohort of every commune balances; the communes'
    births, deaths and net migrants add up to the province's in every step and year;
    a commune with more children gets more of the births."""
    earlier, base = _communes()
    window = _synthetic_window()
    assumptions, _ = assumptions_from_window(window)
    province = project(BasePopulation(date(2025, 12, 31), _all(base)), assumptions, 2035)
    steps = project_communes(
        earlier, base, [s.population for s in province.steps], FIVE_YEAR_STARTS
    )
    communes = commune_projections(province, base, steps)
    assert sorted(communes) == ["00001", "00002", "00003"]
    for i, step in enumerate(province.steps):
        own = [c.steps[i] for c in communes.values()]
        for name in ("births_total", "deaths_total", "net_migration_total"):
            got = math.fsum(getattr(s, name) for s in own)
            assert got == pytest.approx(getattr(step, name), rel=1e-9), name
        for code, c in communes.items():
            before = c.base.population if i == 0 else c.steps[i - 1].population
            assert c.steps[i].population == steps[i][code]
            for cohort in c.steps[i].cohorts:
                assert cohort.end == pytest.approx(
                    cohort.start + cohort.births - cohort.deaths + cohort.net_migrants,
                    abs=TOLERANCE,
                )
                assert cohort.start == pytest.approx(
                    sum(before.sex(cohort.sex)[g] for g in cohort.start_groups), abs=TOLERANCE
                )
    for code, c in communes.items():
        previous = base[code].total()
        for year in annual_series(c):
            assert year.population.total() == pytest.approx(
                previous + year.births - year.deaths + year.net_migration, abs=TOLERANCE
            )
            previous = year.population.total()
    first = {code: c.steps[0] for code, c in communes.items()}
    per_child = {
        code: s.births_total / (s.population.male[0] + s.population.female[0])
        for code, s in first.items()
    }
    assert max(per_child.values()) == pytest.approx(min(per_child.values()), rel=0.05)
    assert first["00001"].births_total > first["00003"].births_total
    with pytest.raises(ValueError):
        commune_projections(province, base, steps[:1])


def test_assumptions_reject_mismatched_grids() -> None:
    with pytest.raises(ValueError):
        Migration(BySex.zeros(21), BySex.zeros(20))
    with pytest.raises(ValueError):
        BasePopulation(date(2025, 12, 31), BySex.zeros(20))


def test_the_parametric_standard_is_a_plausible_table() -> None:
    """The stand-in standard of a top unit with few deaths: men die younger, both e0 in
    a middle-income country's range, rates rising with age above 10."""
    from projections.domain.forecast.standard import standard_table

    men, women = standard_table("male"), standard_table("female")
    assert 65 < men.e0 < women.e0 < 85
    assert all(a < b for a, b in zip(men.mx[3:], men.mx[4:], strict=False))
