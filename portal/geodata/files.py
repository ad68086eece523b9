"""Where the vendored map data lives, and how to read it.

The portal serves these files as they are (offline, no map service); this module
is for the code and the tests that need their contents in Python.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict

GEO_DIR = Path(__file__).resolve().parent.parent / "static" / "geo"
PROVINCES = GEO_DIR / "provinces.json"  # the 34 provinces from 2025-07-01
PROVINCES_BEFORE = GEO_DIR / "provinces-before-2025-07-01.json"  # the 63 before
COMMUNES = GEO_DIR / "communes.json"  # the 3,321 communes from 2025-07-01, as points
# the communes until 2025-06-30 that have a point (10,023 of the GSO's 10,051)
COMMUNES_BEFORE = GEO_DIR / "communes-before-2025-07-01.json"
LICENSES = GEO_DIR / "LICENSES.md"


class CommunePoint(TypedDict):
    code: str  # 5-digit GSO code
    name: str
    province: str  # 2-digit GSO code of its province (from 2025-07-01)
    lon: float
    lat: float
    area_km2: float | None  # None: the source has no (or a zero) area for it


class FormerCommunePoint(TypedDict):
    code: str  # 5-digit GSO code of the commune until 2025-06-30
    name: str
    province: str  # 2-digit GSO code of its province until 2025-06-30 (one of the 63)
    lon: float
    lat: float


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def provinces() -> dict[str, Any]:
    """GeoJSON FeatureCollection of the 34 provinces; properties `code`, `name`."""
    data: dict[str, Any] = _read(PROVINCES)
    return data


def provinces_before() -> dict[str, Any]:
    """GeoJSON FeatureCollection of the 63 provinces as they were until 2025-06-30."""
    data: dict[str, Any] = _read(PROVINCES_BEFORE)
    return data


def communes() -> list[CommunePoint]:
    """The 3,321 communes: code, name, province, a point inside it, its area."""
    data: list[CommunePoint] = _read(COMMUNES)
    return data


def communes_before() -> list[FormerCommunePoint]:
    """The communes as they were until 2025-06-30 that the source places: code, name,
    former province, a point. The GSO's others have no point and are not listed."""
    data: list[FormerCommunePoint] = _read(COMMUNES_BEFORE)
    return data
