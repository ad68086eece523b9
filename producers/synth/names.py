"""Plausible Vietnamese names and citizen ID numbers.

Family names follow their well-known frequencies (Nguyễn about 38%, Trần 11%, Lê 9.5%,
Phạm 7%, ...; Lê Trung Hoa, "Họ và tên người Việt Nam", 2005), with the southern
spellings Huỳnh and Võ south of the Hải Vân pass. The middle names Văn and Thị
are most common in older generations.
"""

from __future__ import annotations

import random
from itertools import accumulate

_FAMILY = (
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Hoàng", 5.1),
    ("Phan", 4.5), ("Vũ", 3.9), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.4), ("Hồ", 1.3),
    ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Trương", 0.8), ("Đinh", 0.6),
    ("Lâm", 0.5), ("Mai", 0.5), ("Tô", 0.3), ("Cao", 0.4), ("Đoàn", 0.5), ("Lương", 0.4),
    ("Châu", 0.3), ("Tạ", 0.3), ("Thái", 0.2), ("Hà", 0.5), ("La", 0.2), ("Quách", 0.2),
)  # fmt: skip
_SOUTHERN = {"Hoàng": "Huỳnh", "Vũ": "Võ"}
_FAMILY_BY_ETHNICITY = {
    "04": ("Lý", "Trương", "Quách", "Lâm", "Tăng", "Hứa", "Diệp", "Lưu", "Mã", "Trần"),
    "05": ("Thạch", "Danh", "Sơn", "Lâm", "Kim", "Châu", "Lý", "Huỳnh"),
}
_MIDDLE_MALE = ("Minh", "Quốc", "Hoàng", "Đức", "Thanh", "Hữu", "Công", "Gia", "Anh", "Nhật")
_MIDDLE_FEMALE = ("Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Bảo", "Phương", "Hồng", "Khánh", "Hoài")
_GIVEN_MALE = (
    "Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Long", "Phúc", "Khang", "Huy", "Bảo", "Tài",
    "Thành", "Hải", "Sơn", "Trung", "Hiếu", "Tâm", "Phong", "Khoa", "Đạt", "Quang", "Thắng",
    "Vinh", "Lộc", "Nghĩa", "Tùng", "Cường", "Hòa", "An", "Duy",
)  # fmt: skip
_GIVEN_FEMALE = (
    "Lan", "Hương", "Hoa", "Mai", "Linh", "Trang", "Thảo", "Ngọc", "Anh", "Nhung", "Hằng",
    "Yến", "Vy", "Nhi", "Thư", "Hân", "Phương", "Loan", "Tuyết", "Hạnh", "Diễm", "Trinh",
    "Nga", "Thủy", "Hiền", "My", "Châu", "Quyên", "Oanh", "Như",
)  # fmt: skip
_GIVEN_KHMER_MALE = ("Sơl", "Chanh", "Sóc", "Sa Rươl", "Phol", "Sang", "Khem", "Thuôl", "Sóc Ha")
_GIVEN_KHMER_FEMALE = ("Sa Ranh", "Sa Rinh", "Sóc Kha", "Thơ", "Phi", "Ni", "Mách", "Sà Phol")
_SOUTH_FROM = 48  # provinces coded 48 (Đà Nẵng) and up use the southern spellings


def _traditional_share(birth_year: int) -> float:
    """Share named Văn/Thị: most of those born before 1980, few since 2000."""
    if birth_year < 1980:
        return 0.65
    return 0.45 if birth_year < 2000 else 0.15


class Names:
    def __init__(self, rng: random.Random, province: str) -> None:
        self._rng = rng
        south = int(province) >= _SOUTH_FROM
        names = [_SOUTHERN.get(name, name) if south else name for name, _ in _FAMILY]
        self._family = names
        self._family_cum = list(accumulate(weight for _, weight in _FAMILY))

    def family(self, ethnicity: str) -> str:
        special = _FAMILY_BY_ETHNICITY.get(ethnicity)
        if special is not None:
            return self._rng.choice(special)
        return self._rng.choices(self._family, cum_weights=self._family_cum)[0]

    def full(self, family: str, female: bool, birth_year: int, ethnicity: str) -> str:
        rng = self._rng
        if ethnicity == "05":
            given = rng.choice(_GIVEN_KHMER_FEMALE if female else _GIVEN_KHMER_MALE)
            middle = ("Thị" if female else "Văn") if rng.random() < 0.4 else ""
            return " ".join(part for part in (family, middle, given) if part)
        if rng.random() < _traditional_share(birth_year):
            middle = "Thị" if female else "Văn"
        else:
            middle = rng.choice(_MIDDLE_FEMALE if female else _MIDDLE_MALE)
        given = rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)
        return f"{family} {middle} {given}"


class NationalIds:
    """12-digit citizen IDs (Circular 59/2021/TT-BCA): 3 digits province of birth
    registration, 1 digit century and sex, 2 digits year of birth, 6 serial digits.

    Serials are a fixed permutation of a counter per prefix, so IDs never repeat.
    """

    _MULTIPLIER = 379_721  # coprime with 10**6: n -> n*M + offset is a permutation

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: dict[str, tuple[int, int]] = {}

    def issue(self, province: str, female: bool, birth_year: int) -> str:
        century = (birth_year - 1900) // 100
        prefix = f"0{province}{2 * century + int(female)}{birth_year % 100:02d}"
        count, offset = self._issued.get(prefix, (0, self._rng.randrange(1_000_000)))
        self._issued[prefix] = (count + 1, offset)
        return f"{prefix}{(count * self._MULTIPLIER + offset) % 1_000_000:06d}"
