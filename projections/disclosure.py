"""Disclosure control for the analysts' row-level views (docs/decisions/0004-disclosure-control.md).

Analysts read persons and households row by row in PostgreSQL's `analyst` schema.
A row alone in its combination of quasi-identifiers (what an outsider may know about
someone: where they live, sex, age, ethnicity, marital status, ...) is that person,
so the views are k-anonymous: `007_disclosure_control.sql` generalises the
quasi-identifiers, withholds the commune of a row whose combination holds fewer than
k rows in its commune, and leaves out a row still in fewer than k. `release` is the
same rule in Python: the tests hold the views to it, and measure what the rule costs.

k is the setting `disclosure_k`; `write_k` stores it where the views read it
(`analyst.disclosure`), which `popreg up` does after the migrations, so changing the
setting and running `popreg up` again changes what analysts see.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from datetime import date

import psycopg

KINH = "01"  # GSO ethnicity code (schemas/data, producers/synth/demography.py)
LARGEST_HOUSEHOLD = 6  # households of six or more members share the value 6

# The columns of analyst.persons and analyst.households, every one a quasi-identifier:
# the commune first, as it is the one `release` withholds.
PERSON_COLUMNS = (
    "commune_code",
    "sex",
    "birth_cohort",
    "ethnic_group",
    "marital_status",
    "vital_status",
    "death_year",
    "residence",
)
HOUSEHOLD_COLUMNS = ("commune_code", "created_year", "dissolved_year", "current_members")

Row = tuple[Hashable, ...]


def birth_cohort(born: date) -> int:
    """First year of the five-year cohort: stable as time passes, unlike an age group,
    so a release does not change with the day it is read."""
    return born.year // 5 * 5


def ethnic_group(code: str) -> str:
    """'Kinh' or 'other': every other group is a minority of at most a few percent in
    most provinces, and with its commune would single out a few families."""
    return "Kinh" if code == KINH else "other"


def generalise_person(
    commune_code: str | None,
    sex: str,
    birth_date: date,
    ethnicity: str,
    marital_status: str,
    vital_status: str,
    date_of_death: date | None,
    residence: str,
) -> Row:
    """A `persons` row's quasi-identifiers as analyst.persons generalises them."""
    return (
        commune_code,
        sex,
        birth_cohort(birth_date),
        ethnic_group(ethnicity),
        marital_status,
        vital_status,
        None if date_of_death is None else date_of_death.year,
        residence,
    )


def generalise_household(
    commune_code: str | None, created_on: date, dissolved_on: date | None, members: int
) -> Row:
    """A household's quasi-identifiers as analyst.households generalises them."""
    return (
        commune_code,
        created_on.year,
        None if dissolved_on is None else dissolved_on.year,
        min(members, LARGEST_HOUSEHOLD),
    )


def release(rows: Iterable[Row], k: int) -> list[Row]:
    """The rows analysts get: k-anonymous over all their columns.

    A row whose combination holds fewer than k rows keeps its other values and loses
    its commune (first column, None): withholding one column keeps the row's facts
    for province-wide figures, where coarsening the others for everyone would cost
    every analysis. A row whose combination is rare even across the registry is left
    out. Order is kept."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    generalised = list(rows)
    in_commune = Counter(generalised)
    placed = [row if in_commune[row] >= k else (None, *row[1:]) for row in generalised]
    released = Counter(placed)
    return [row for row in placed if released[row] >= k]


def smallest_class(rows: Iterable[Row]) -> int:
    """The k the rows achieve: the size of their rarest combination (0 with no rows)."""
    sizes = Counter(rows)
    return min(sizes.values(), default=0)


def singled_out_share(rows: Sequence[Row]) -> float:
    """Share of the rows alone in their combination: persons found from those facts."""
    sizes = Counter(rows)
    return sum(1 for row in rows if sizes[row] == 1) / len(rows) if rows else 0.0


def write_k(url: str, k: int) -> None:
    """Store k where the analysts' views read it (migration 007 creates the row)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE analyst.disclosure SET k = %s WHERE k IS DISTINCT FROM %s", (k, k))
