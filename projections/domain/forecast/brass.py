"""Borrowing strength: Brass's relational logit model fitted to a unit's deaths.

A commune sees a handful of deaths in five years, most age groups none: its raw rates are
noise, and a raw table may not close at all. Brass's model says a population's survival
curve is a linear transform of a standard's on the logit scale,

    logit(1 - l(x)) = alpha + beta · logit(1 - l_s(x)),   logit(p) = ½ ln(p / (1 - p)),

so two numbers (alpha the level, beta the slope between young and old) carry the unit's own
information and the standard (the province's table, the nation's, or a model table)
carries the shape (Brass 1971; UN Manual X, 1983, ch. I; Moultrie et al., Tools for
Demographic Estimation, 2013, "Introduction to model life tables").

alpha and beta are fitted by maximum likelihood: deaths are Poisson with mean rate x exposure,
the rates those of the model table. Two guards make the fit sensible for tiny units:

- a prior worth `prior_deaths` expected deaths at the standard's rates is added (pseudo
  deaths and pseudo exposure in the standard's proportions; a gamma prior on the level),
  so a commune without deaths gets a table a little lighter than the standard, not an
  immortal one, and a province's own deaths swamp the prior;
- below `two_parameter_deaths` observed deaths beta is held at 1 (only the level is fitted),
  because a slope fitted to a dozen deaths is noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from projections.domain.forecast.ages import widths
from projections.domain.forecast.life_table import LifeTable, Sex, life_table

PRIOR_DEATHS = 25.0
TWO_PARAMETER_DEATHS = 200.0
ALPHA_RANGE = (-3.0, 3.0)
BETA_RANGE = (0.25, 3.0)


@dataclass(frozen=True)
class BrassFit:
    """The fitted parameters, the table they give, and how it was fitted."""

    alpha: float
    beta: float
    parameters: int  # 1 when beta was held at 1, else 2
    observed_deaths: float
    table: LifeTable


def logit(p: float) -> float:
    return 0.5 * math.log(p / (1 - p))


def brass_table(standard: LifeTable, alpha: float, beta: float, sex: Sex) -> LifeTable:
    """The model table: l(x) from the standard's by the logit transform; nax of the
    closed groups borrowed from the standard; the open group's rate is the standard's
    scaled by the ratio of model to standard rates in the last closed group (Brass's
    model says nothing past the last exact age, and this keeps the old-age gradient)."""
    radix = standard.radix
    lx = [radix]
    for l_s in standard.lx[1:]:
        y = alpha + beta * logit(1 - l_s / radix)
        lx.append(radix / (1 + math.exp(2 * y)))
    mx: list[float] = []
    for i, n in enumerate(widths(standard.starts)):
        if n is None:
            last = len(mx) - 1
            scale = mx[last] / standard.mx[last] if standard.mx[last] > 0 else 1.0
            mx.append(standard.mx[i] * scale)
        else:
            d = lx[i] - lx[i + 1]
            L = n * lx[i + 1] + standard.ax[i] * d
            mx.append(d / L)
    return life_table(standard.starts, mx, sex, ax=standard.ax, radix=radix)


def fit_brass(
    deaths: Sequence[float],
    exposures: Sequence[float],
    standard: LifeTable,
    sex: Sex,
    *,
    prior_deaths: float = PRIOR_DEATHS,
    two_parameter_deaths: float = TWO_PARAMETER_DEATHS,
) -> BrassFit:
    """The unit's table: Brass's model against `standard`, fitted to its deaths and
    person-years on the standard's age grid (see the module's docstring)."""
    if not len(deaths) == len(exposures) == len(standard.starts):
        raise ValueError("deaths, exposures and the standard are on different grids")
    expected_at_standard = sum(m * e for m, e in zip(standard.mx, exposures, strict=True))
    if expected_at_standard <= 0:
        raise ValueError("no exposure: nothing to fit")
    w = prior_deaths / expected_at_standard
    weighted_deaths = [
        d + w * e * m for d, e, m in zip(deaths, exposures, standard.mx, strict=True)
    ]
    weighted_exposure = [e * (1 + w) for e in exposures]

    def loglik(alpha: float, beta: float) -> float:
        model = brass_table(standard, alpha, beta, sex)
        total = 0.0
        for d, e, m in zip(weighted_deaths, weighted_exposure, model.mx, strict=True):
            if e > 0:
                total += (d * math.log(m) if d > 0 else 0.0) - m * e
        return total

    observed = sum(deaths)
    if observed >= two_parameter_deaths:
        beta = _golden_max(lambda b: loglik(_best_alpha(loglik, b), b), *BETA_RANGE)
        parameters = 2
    else:
        beta, parameters = 1.0, 1
    alpha = _best_alpha(loglik, beta)
    return BrassFit(alpha, beta, parameters, observed, brass_table(standard, alpha, beta, sex))


def _best_alpha(loglik: Callable[[float, float], float], beta: float) -> float:
    return _golden_max(lambda a: loglik(a, beta), *ALPHA_RANGE)


def _golden_max(f: Callable[[float], float], low: float, high: float, tol: float = 1e-7) -> float:
    """The maximiser of a unimodal f on [low, high] by golden-section search: no
    derivatives, no library, and the Poisson log-likelihood is unimodal in each of alpha, beta."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (a + b) / 2
