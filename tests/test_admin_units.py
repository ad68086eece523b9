"""The official administrative-unit tables, loaded as the GSO publishes them."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.admin_units import REFORM_DATE, LinkKind, classify, load

BEFORE = date(2024, 12, 31)
AFTER = date(2025, 7, 1)


def test_both_structures_have_their_official_sizes() -> None:
    units = load()
    assert len(units.before) == 10_051  # 10,056 rows, 5 of them island districts with no commune
    assert len({c.province_code for c in units.before.values()}) == 63
    assert len({c.district_code for c in units.before.values()}) == 691  # + 5 island districts
    assert len(units.after) == 3_321
    assert len({c.province_code for c in units.after.values()}) == 34
    assert all(c.district_code is None for c in units.after.values())


def test_every_link_joins_known_communes() -> None:
    units = load()
    assert len(units.links) > 10_000
    assert {link.new_code for link in units.links} <= set(units.after)
    # The conversion table names 10 old communes that the older list no longer has
    # (merged before that list was published); they are kept as links, not as units.
    unknown_old = {link.old_code for link in units.links} - set(units.before)
    assert len(unknown_old) == 10


def test_a_code_is_valid_on_a_date_not_forever() -> None:
    units = load()
    phuc_xa = units.commune_on("00001", BEFORE)
    assert phuc_xa is not None and phuc_xa.name == "Phường Phúc Xá"
    assert phuc_xa.valid_to == date(2025, 6, 30)
    assert not units.exists_on("00001", AFTER)  # absorbed by the reform
    ba_dinh = units.commune_on("00004", AFTER)
    assert ba_dinh is not None and ba_dinh.name == "Phường Ba Đình"
    assert ba_dinh.valid_from == REFORM_DATE
    assert not units.exists_on("99999", BEFORE)


def test_ca_mau_after_the_reform_is_old_ca_mau_plus_bac_lieu() -> None:
    units = load()
    new_ca_mau = {c.code for c in units.communes_of_province("96", AFTER)}
    old_provinces = {
        units.before[link.old_code].province_code
        for link in units.links
        if link.new_code in new_ca_mau
    }
    assert old_provinces == {"95", "96"}
    assert len(units.communes_of_province("96", BEFORE)) > 0


def test_a_split_commune_has_several_successors() -> None:
    units = load()
    split = [code for code in units.before if len(units.successors(code)) > 1]
    assert len(split) > 300
    for code in split[:50]:
        assert any(link.kind is not LinkKind.WHOLE for link in units.successors(code))


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("Nhập toàn bộ", LinkKind.WHOLE),
        ("Giữ nguyên", LinkKind.WHOLE),
        ("Đổi loại hình", LinkKind.WHOLE),
        ("Nhập một phần", LinkKind.PART),
        ("  Nhập một phần\n diện tích, toàn bộ dân số ", LinkKind.AREA_ALL_POPULATION),
        ("Nhập một phần diện tích", LinkKind.AREA_ONLY),
        ("Nhâp một phần diện tích", LinkKind.AREA_ONLY),
        ("Nhập một phần dân số", LinkKind.PART_POPULATION),
        ("Phần còn lại sau khi tách một phần vào xã Canh Vinh", LinkKind.PART),
    ],
)
def test_conversion_notes_are_read_despite_stray_spaces(note: str, kind: LinkKind) -> None:
    assert classify(note) is kind
    assert kind.carries_population is (kind is not LinkKind.AREA_ONLY)
