"""Where the province's households live, before and after the 2025-07-01 reform.

A household keeps the commune it was found in; from the reform on it is reported
under that commune's successor. A split commune's households are spread over the
successors that took population, by a stable hash of the household id.
"""

from __future__ import annotations

import random
import zlib
from collections import Counter
from dataclasses import dataclass

from schemas.admin_units import LAST_DAY_BEFORE, REFORM_DATE, AdminUnits, Commune

REFORM_ORDINAL = REFORM_DATE.toordinal()
_METROPOLIS_NORTH, _METROPOLIS_SOUTH = "01", "79"  # Hà Nội, Hồ Chí Minh City


def stable_hash(text: str) -> int:
    """A hash that is the same in every process (str.__hash__ is salted)."""
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class Places:
    province: str
    new_province: str  # the province the communes belong to from the reform on
    communes: tuple[Commune, ...]  # the province's communes before the reform
    successors: dict[str, tuple[str, ...]]  # old code -> new codes that took population
    new_communes: dict[str, Commune]
    elsewhere_before: tuple[str, ...]  # communes of other provinces, before the reform
    elsewhere_after: tuple[str, ...]
    metropolis_before: tuple[str, ...]
    metropolis_after: tuple[str, ...]
    province_codes: tuple[str, ...]  # every pre-reform province, for places of birth

    @classmethod
    def of(cls, units: AdminUnits, province: str) -> Places:
        communes = tuple(units.communes_of_province(province, LAST_DAY_BEFORE))
        if not communes:
            raise ValueError(f"no communes for province {province!r} before the reform")
        fallback = sorted(c.code for c in units.after.values())
        successors: dict[str, tuple[str, ...]] = {}
        for commune in communes:
            links = units.successors(commune.code)
            carrying = [link.new_code for link in links if link.kind.carries_population]
            chosen = carrying or [link.new_code for link in links]
            successors[commune.code] = tuple(chosen) or (
                fallback[stable_hash(commune.code) % len(fallback)],
            )
        tally = Counter(
            units.after[code].province_code
            for codes in successors.values()
            for code in codes
            if code in units.after
        )
        new_province = tally.most_common(1)[0][0]
        new_communes = {code: units.after[code] for codes in successors.values() for code in codes}
        metropolis = _METROPOLIS_SOUTH if int(province) >= 45 else _METROPOLIS_NORTH
        if metropolis in (province, new_province):
            metropolis = _METROPOLIS_NORTH if metropolis == _METROPOLIS_SOUTH else "79"
        before = sorted(units.before.values(), key=lambda c: c.code)
        after = sorted(units.after.values(), key=lambda c: c.code)
        return cls(
            province=province,
            new_province=new_province,
            communes=communes,
            successors=successors,
            new_communes=new_communes,
            elsewhere_before=tuple(c.code for c in before if c.province_code != province),
            elsewhere_after=tuple(c.code for c in after if c.province_code != new_province),
            metropolis_before=tuple(c.code for c in before if c.province_code == metropolis),
            metropolis_after=tuple(c.code for c in after if c.province_code == metropolis),
            province_codes=tuple(sorted({c.province_code for c in before})),
        )

    def successor(self, old_code: str, household_id: str) -> str:
        codes = self.successors[old_code]
        return codes[stable_hash(household_id) % len(codes)]

    def elsewhere(self, rng: random.Random, day: int, to_metropolis: float) -> str:
        """A real commune of another province, valid on `day` (an ordinal)."""
        after = day >= REFORM_ORDINAL
        if rng.random() < to_metropolis:
            return rng.choice(self.metropolis_after if after else self.metropolis_before)
        return rng.choice(self.elsewhere_after if after else self.elsewhere_before)

    def address(self, rng: random.Random, commune: Commune) -> str:
        """'Ấp 3, Xã ...' in the South, 'Thôn 3, Xã ...' elsewhere; urban wards by block."""
        south = int(self.province) >= 70
        urban = commune.name.startswith(("Phường", "Thị trấn"))
        if urban:
            hamlet = f"Số {rng.randint(1, 250)}, {'Khóm' if south else 'Tổ dân phố'}"
        else:
            hamlet = "Ấp" if south else "Thôn"
        number = rng.randint(1, 4 + stable_hash(commune.code) % 9)
        return f"{hamlet} {number}, {commune.name}, {commune.province_name}"

    def birth_province(self, rng: random.Random, local_share: float) -> str:
        """Province of birth registration: mostly here, sometimes anywhere in the country."""
        return self.province if rng.random() < local_share else rng.choice(self.province_codes)


def reporters(code: str) -> int:
    """How many collaborators report for a commune: 2 to 6, fixed per commune."""
    return 2 + stable_hash(code) % 5


def reporter_id(code: str, number: int) -> str:
    return f"CTV-{code}-{number:02d}"
