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

# The same in Vietnamese, as the pages show them by default. The letters name the same
# quantities (P dân số trung bình, B sinh, D chết, A hệ số quy về năm, ...).
_RATE_VI = "x A / P x 1000"
DEFINITIONS_VI: dict[str, str] = {
    "population_end": "số người thường trú vào ngày cuối kỳ",
    "population_end_male": "số nam thường trú vào ngày cuối kỳ",
    "population_end_female": "số nữ thường trú vào ngày cuối kỳ",
    "population_mid": "P: dân số ngày 1/7 (kỳ một năm), hoặc trung bình của ngày trước kỳ"
    " và ngày cuối kỳ",
    "births": "B: số trẻ sinh ra trong kỳ",
    "deaths": "D: số người chết trong kỳ",
    "marriages": "M: số cuộc kết hôn trong kỳ",
    "divorces": "V: số vụ ly hôn trong kỳ",
    "in_migrants": "I: số người chuyển đến từ ngoài đơn vị",
    "out_migrants": "O: số người chuyển đi ra ngoài đơn vị",
    "crude_birth_rate": f"B {_RATE_VI}",
    "crude_death_rate": f"D {_RATE_VI}",
    "natural_increase_rate": f"(B - D) {_RATE_VI}",
    "general_fertility_rate": "B x A / số phụ nữ 15-49 tuổi x 1000",
    **{
        f"asfr_{g}_{g + 4}": f"số sinh của bà mẹ {g}-{g + 4} tuổi x A / số phụ nữ {g}-{g + 4}"
        " tuổi x 1000"
        for g in FERTILE_GROUPS
    },
    "total_fertility_rate": "5 x tổng các tỷ suất sinh đặc trưng theo tuổi 15-49 / 1000",
    "sex_ratio_at_birth": "số bé trai sinh ra / số bé gái sinh ra x 100",
    "infant_mortality_rate": "số trẻ chết dưới 1 tuổi / B x 1000",
    "under5_mortality_rate": "số trẻ chết dưới 5 tuổi / B x 1000",
    "crude_marriage_rate": f"M {_RATE_VI}",
    "crude_divorce_rate": f"V {_RATE_VI}",
    "in_migration_rate": f"I {_RATE_VI}",
    "out_migration_rate": f"O {_RATE_VI}",
    "net_migration_rate": f"(I - O) {_RATE_VI}",
    "dependency_ratio": "(số người 0-14 tuổi + 65 tuổi trở lên) / số người 15-64 tuổi x 100",
    "young_dependency_ratio": "số người 0-14 tuổi / số người 15-64 tuổi x 100",
    "old_dependency_ratio": "số người 65 tuổi trở lên / số người 15-64 tuổi x 100",
    "ageing_index": "số người 65 tuổi trở lên / số người 0-14 tuổi x 100",
    "average_household_size": "P / số hộ trung bình trong kỳ",
    "smam_female": "tuổi kết hôn trung bình lần đầu của nữ (phương pháp Hajnal)",
    "smam_male": "tuổi kết hôn trung bình lần đầu của nam (phương pháp Hajnal)",
    "communes_online_share": "số xã có sự kiện ghi qua điện thoại hoặc web trong 30 ngày cuối"
    " / số xã x 100",
    "mobile_share": "số sự kiện hộ tịch ghi qua điện thoại / số sự kiện ghi nhận x 100",
    "median_registration_delay": "trung vị số ngày từ khi sự kiện xảy ra đến khi được ghi nhận",
    "registered_within_30_days_share": "số sự kiện ghi nhận trong vòng 30 ngày / số sự kiện"
    " ghi nhận x 100",
    "collaborators_active": "số tài khoản cộng tác viên đã cấp và chưa thu hồi vào ngày cuối kỳ",
    "collaborators_mobile_share": "số cộng tác viên đã ghi ít nhất một sự kiện bằng điện thoại"
    " trong 30 ngày cuối / số cộng tác viên đang hoạt động x 100",
}

# The catalogue's units in Vietnamese.
UNITS_VI: dict[str, str] = {
    "persons": "người",
    "events": "sự kiện",
    "per 1000 population a year": "‰ dân số mỗi năm",
    "per 1000 women 15-49 a year": "‰ phụ nữ 15-49 tuổi mỗi năm",
    **{
        f"per 1000 women {g}-{g + 4} a year": f"‰ phụ nữ {g}-{g + 4} tuổi mỗi năm"
        for g in FERTILE_GROUPS
    },
    "children per woman": "con/phụ nữ",
    "male per 100 female births": "bé trai/100 bé gái",
    "per 1000 live births": "‰ trẻ sinh sống",
    "per 100 aged 15-64": "/100 người 15-64 tuổi",
    "aged 65+ per 100 aged 0-14": "người 65+/100 người 0-14 tuổi",
    "persons per household": "người/hộ",
    "years": "năm",
    "percent": "%",
    "days": "ngày",
}
