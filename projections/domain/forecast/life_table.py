"""The abridged period life table, and the survival ratios a projection takes from it.

Conventions (Preston, Heuveline & Guillot 2001, ch. 3; stated because every table's
numbers depend on them):

- nqx from nMx and nax: nqx = n·nMx / (1 + (n - nax)·nMx), at most 1;
- nax: for age 0 and 1-4 the Coale-Demeny formulas as Preston et al. give them (Table
  3.3, from 1M0); for the five-year groups n/2 = 2.5 unless the caller gives its own;
- the open interval: everyone dies in it (q = 1), its person-years are lx / Mx, so its
  a = 1 / Mx;
- nLx = n·l(x+n) + nax·ndx; Tx sums nLx from x up; ex = Tx / lx.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from projections.domain.forecast.ages import widths

Sex = Literal["male", "female"]
RADIX = 100_000.0


@dataclass(frozen=True)
class LifeTable:
    """An abridged life table: one row per age group, the last open."""

    starts: tuple[int, ...]
    mx: tuple[float, ...]
    ax: tuple[float, ...]
    qx: tuple[float, ...]
    lx: tuple[float, ...]
    dx: tuple[float, ...]
    Lx: tuple[float, ...]
    Tx: tuple[float, ...]
    ex: tuple[float, ...]

    @property
    def e0(self) -> float:
        """Life expectancy at birth."""
        return self.ex[0]

    @property
    def radix(self) -> float:
        return self.lx[0]


def infant_ax(m0: float, sex: Sex) -> tuple[float, float]:
    """1a0 and 4a1 from the infant death rate 1M0: the Coale-Demeny (West) formulas as
    tabulated by Preston et al. (2001), Table 3.3. Deaths in the first year come early
    (most in the first weeks), so 1a0 is far below 0.5 and grows with the level."""
    if sex == "male":
        if m0 >= 0.107:
            return 0.330, 1.352
        return 0.045 + 2.684 * m0, 1.651 - 2.816 * m0
    if m0 >= 0.107:
        return 0.350, 1.361
    return 0.053 + 2.800 * m0, 1.522 - 1.518 * m0


def default_ax(starts: Sequence[int], mx: Sequence[float], sex: Sex) -> tuple[float, ...]:
    """The conventions above for every closed group; the open group's entry is ignored by
    `life_table` (it takes 1 / Mx)."""
    out: list[float] = []
    infant = infant_ax(mx[0], sex) if tuple(starts[:3]) == (0, 1, 5) else None
    for i, n in enumerate(widths(starts)):
        if n is None:
            out.append(1 / mx[i] if mx[i] > 0 else 0.0)
        elif infant is not None and i < 2:
            out.append(infant[i])
        else:
            out.append(n / 2)
    return tuple(out)


def life_table(
    starts: Sequence[int],
    mx: Sequence[float],
    sex: Sex,
    ax: Sequence[float] | None = None,
    radix: float = RADIX,
) -> LifeTable:
    """The life table of the death rates nMx (deaths / person-years) by age group.

    `ax` overrides the conventions for the closed groups (a published table gives its
    own); the open group always takes 1 / Mx. An open group without deaths has no finite
    life table: raise rather than invent one (a small unit should use `brass`)."""
    starts = tuple(starts)
    if len(mx) != len(starts):
        raise ValueError("one death rate per age group")
    if mx[-1] <= 0:
        raise ValueError("no deaths in the open age group: the table would never close")
    if min(mx) < 0:
        raise ValueError("a negative death rate")
    a = list(ax) if ax is not None else list(default_ax(starts, mx, sex))
    lx, dx, Lx, qx = [radix], [], [], []
    for i, n in enumerate(widths(starts)):
        m = mx[i]
        if n is None:
            q = 1.0
            a[i] = 1 / m
            d = lx[i]
            L = lx[i] / m
        else:
            q = min(1.0, n * m / (1 + (n - a[i]) * m))
            d = lx[i] * q
            L = n * (lx[i] - d) + a[i] * d
            lx.append(lx[i] - d)
        qx.append(q)
        dx.append(d)
        Lx.append(L)
    Tx: list[float] = []
    running = 0.0
    for L in reversed(Lx):
        running += L
        Tx.append(running)
    Tx.reverse()
    ex = [t / alive if alive > 0 else 0.0 for t, alive in zip(Tx, lx, strict=True)]
    return LifeTable(
        starts,
        tuple(float(m) for m in mx),
        tuple(a),
        tuple(qx),
        tuple(lx),
        tuple(dx),
        tuple(Lx),
        tuple(Tx),
        tuple(ex),
    )


def life_table_from_counts(
    starts: Sequence[int],
    deaths: Sequence[float],
    exposures: Sequence[float],
    sex: Sex,
    ax: Sequence[float] | None = None,
) -> LifeTable:
    """The raw table of deaths over person-years (a group without exposure gets rate 0).
    Only for units with enough deaths in every group (the nation, large provinces)."""
    mx = [d / e if e > 0 else 0.0 for d, e in zip(deaths, exposures, strict=True)]
    return life_table(starts, mx, sex, ax)


@dataclass(frozen=True)
class Survival:
    """Five-year survival ratios for one sex, for a projection on a five-year grid.

    - birth: the share of a period's births alive at its end, 5L0 / (5·l0);
    - ratios[i], i < k - 2: survivors of group i into group i + 1, 5L(x+5) / 5Lx;
    - ratios[k - 2]: the last closed group and the open group together into the open
      group, T(open) / T(open - 5) (Preston et al. 2001, eq. 6.2).
    """

    birth: float
    ratios: tuple[float, ...]


def survival_from_person_years(five_year_Lx: Sequence[float], radix: float) -> Survival:
    """Survival from nLx on the five-year grid (the last entry the open group's T)."""
    L = list(five_year_Lx)
    if len(L) < 3 or min(L) <= 0:
        raise ValueError("person-years must be positive in every group")
    closed = [L[i + 1] / L[i] for i in range(len(L) - 2)]
    return Survival(L[0] / (5 * radix), (*closed, L[-1] / (L[-2] + L[-1])))


def five_year_person_years(table: LifeTable) -> tuple[float, ...]:
    """nLx of an abridged table (0, 1-4, 5-9 …) on the five-year grid: 5L0 = 1L0 + 4L1."""
    if table.starts[:3] != (0, 1, 5):
        raise ValueError("not an abridged table starting 0, 1, 5")
    return (table.Lx[0] + table.Lx[1], *table.Lx[2:])


def survival_from_life_table(table: LifeTable) -> Survival:
    return survival_from_person_years(five_year_person_years(table), table.radix)
