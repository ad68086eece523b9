"""What each indicator means, as the portal shows it beside the value: the formulas of
docs/design.md ("Indicator definitions"), keyed by the catalogue's names. A test holds
this to the catalogue, so that no indicator goes without its definition."""

from __future__ import annotations

from projections.domain.indicator_catalog import FERTILE_GROUPS

_RATE = "x A / P x 1000"
DEFINITIONS: dict[str, str] = {
    "population_end": "residents on the period's last day",
    "population_end_male": "male residents on the period's last day",
    "population_end_female": "female residents on the period's last day",
    "population_mid": "P: residents on 1 July (a year), else the mean of the day before"
    " the period and its last day",
    "births": "B: births that occurred in the period",
    "deaths": "D: deaths that occurred in the period",
    "marriages": "M: marriages in the period",
    "divorces": "V: divorces in the period",
    "in_migrants": "I: persons moving in across the unit's border",
    "out_migrants": "O: persons moving out across the unit's border",
    "crude_birth_rate": f"B {_RATE}",
    "crude_death_rate": f"D {_RATE}",
    "natural_increase_rate": f"(B - D) {_RATE}",
    "general_fertility_rate": "B x A / W(15-49) x 1000",
    **{
        f"asfr_{g}_{g + 4}": f"births to mothers aged {g}-{g + 4} x A / W({g}-{g + 4}) x 1000"
        for g in FERTILE_GROUPS
    },
    "total_fertility_rate": "5 x sum ASFR(15-19 ... 45-49) / 1000",
    "sex_ratio_at_birth": "male births / female births x 100",
    "infant_mortality_rate": "deaths under age 1 / B x 1000",
    "under5_mortality_rate": "deaths under age 5 / B x 1000",
    "crude_marriage_rate": f"M {_RATE}",
    "crude_divorce_rate": f"V {_RATE}",
    "in_migration_rate": f"I {_RATE}",
    "out_migration_rate": f"O {_RATE}",
    "net_migration_rate": f"(I - O) {_RATE}",
    "dependency_ratio": "(aged 0-14 + aged 65+) / aged 15-64 x 100",
    "young_dependency_ratio": "aged 0-14 / aged 15-64 x 100",
    "old_dependency_ratio": "aged 65+ / aged 15-64 x 100",
    "ageing_index": "aged 65+ / aged 0-14 x 100",
    "average_household_size": "P / mid-period households",
    "smam_female": "Hajnal's singulate mean age at marriage, women",
    "smam_male": "Hajnal's singulate mean age at marriage, men",
    "communes_online_share": "communes with an event recorded by MOBILE or WEB in the last"
    " 30 days / communes in force x 100",
    "mobile_share": "vital events recorded through MOBILE / vital events recorded x 100",
    "median_registration_delay": "median days from occurrence to recording",
    "registered_within_30_days_share": "events recorded within 30 days / events recorded x 100",
    "collaborators_active": "collaborators' accounts enrolled and not revoked on the last day",
    "collaborators_mobile_share": "active collaborators who recorded an event from a phone in the"
    " last 30 days / active collaborators x 100",
}
