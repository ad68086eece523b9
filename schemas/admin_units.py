"""Vietnam's administrative units, as the official GSO tables give them.

Two structures: until 2025-06-30 provinces (63) > districts (696) > communes
(10,051 with a code, plus 5 island districts without communes); from 2025-07-01
provinces (34) > communes (3,321). A commune code alone
does not say which structure it belongs to (new communes often reuse an old code);
a code plus the date it is valid on does. The tables and their provenance note are
in `schemas/data/admin-units/`.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cache
from pathlib import Path

REFORM_DATE = date(2025, 7, 1)
LAST_DAY_BEFORE = date(2025, 6, 30)
DATA_DIR = Path(__file__).parent / "data" / "admin-units"
BEFORE_FILE = "communes_before_2025-07-01.csv"
CONVERSION_FILE = "commune_conversion_2025-07-01.csv"

_CODE_IN_PARENS = re.compile(r"^(?P<name>.*?)\s*\((?P<code>\d+)\)\s*$")


class LinkKind(Enum):
    """How an old commune went into a new one (the table's `Ghi chú`)."""

    WHOLE = "whole"  # merged whole, or unchanged, renamed, retyped: all its population
    AREA_ALL_POPULATION = "area_all_population"  # part of the area, all of the population
    PART = "part"  # split: part of area and population went here
    PART_POPULATION = "part_population"  # part of the population
    AREA_ONLY = "area_only"  # area only: no population moved here

    @property
    def carries_all_population(self) -> bool:
        return self in {LinkKind.WHOLE, LinkKind.AREA_ALL_POPULATION}

    @property
    def carries_population(self) -> bool:
        return self is not LinkKind.AREA_ONLY


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    province_code: str
    province_name: str
    district_code: str | None  # None after the reform: districts were abolished
    valid_from: date | None  # None: valid since before the tables begin
    valid_to: date | None  # None: still valid


@dataclass(frozen=True)
class Link:
    """One (new commune, old commune) pair of the official conversion table."""

    new_code: str
    old_code: str
    kind: LinkKind
    note: str


@dataclass(frozen=True)
class AdminUnits:
    before: dict[str, Commune]
    after: dict[str, Commune]
    links: tuple[Link, ...]
    links_by_old: dict[str, list[Link]]

    def commune_on(self, code: str, day: date) -> Commune | None:
        """The commune a code names on a given day, or None if no unit had it then."""
        return (self.after if day >= REFORM_DATE else self.before).get(code)

    def exists_on(self, code: str, day: date) -> bool:
        return self.commune_on(code, day) is not None

    def communes_of_province(self, province_code: str, day: date) -> list[Commune]:
        table = self.after if day >= REFORM_DATE else self.before
        return sorted(
            (c for c in table.values() if c.province_code == province_code), key=lambda c: c.code
        )

    def successors(self, old_code: str) -> list[Link]:
        """Where an old commune went on 2025-07-01 (several links when it was split)."""
        return self.links_by_old.get(old_code, [])


def classify(note: str) -> LinkKind:
    """Read the table's free-text note (with its stray spaces and typos) as a LinkKind."""
    text = " ".join(note.lower().replace("nhâp", "nhập").split())
    if "toàn bộ dân số" in text:
        return LinkKind.AREA_ALL_POPULATION
    if "một phần dân số" in text:
        return LinkKind.PART_POPULATION
    if "một phần diện tích" in text:
        return LinkKind.AREA_ONLY
    if "một phần" in text or "phần còn lại" in text:
        return LinkKind.PART
    return LinkKind.WHOLE


def _split_code(cell: str) -> tuple[str, str]:
    match = _CODE_IN_PARENS.match(cell.strip())
    if match is None:
        raise ValueError(f"expected 'name (code)', got {cell!r}")
    return match["name"], match["code"]


def _read(name: str) -> list[list[str]]:
    with (DATA_DIR / name).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


@cache
def load() -> AdminUnits:
    before: dict[str, Commune] = {}
    for row in _read(BEFORE_FILE)[1:]:
        province, province_code, _district, district_code, commune, code = row[:6]
        if not code:
            continue  # an island district with no communes (it has no commune code)
        before[code] = Commune(
            code,
            commune.strip(),
            province_code,
            province.strip(),
            district_code,
            None,
            LAST_DAY_BEFORE,
        )

    after: dict[str, Commune] = {}
    links: list[Link] = []
    for row in _read(CONVERSION_FILE)[2:]:
        province_cell, new_name, new_code, _old_name, old_code, note = row[:6]
        new_code, old_code = new_code.strip(), old_code.strip()
        if not new_code:
            continue  # a province banner line
        province_name, province_code = _split_code(province_cell)
        after.setdefault(
            new_code,
            Commune(
                new_code, new_name.strip(), province_code, province_name, None, REFORM_DATE, None
            ),
        )
        if old_code:
            links.append(Link(new_code, old_code, classify(note), " ".join(note.split())))
    by_old: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        by_old[link.old_code].append(link)
    return AdminUnits(before, after, tuple(links), dict(by_old))
