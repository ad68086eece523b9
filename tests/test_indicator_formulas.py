"""Which flow parts each indicator reads (`indicator_formulas.flow_parts_of`), so that a
map of one indicator can be asked for without the others: an indicator's value does not
change when the parts it is not listed under change. Pure: no store."""

from __future__ import annotations

import math
from typing import Any

import pytest

from projections.domain.indicator_catalog import INDICATORS, Period
from projections.domain.indicator_formulas import (
    FLOW_PARTS,
    flow_parts_of,
    indicator_values,
    value_of,
)

YEAR = Period.parse("2025")


def sums(scale: int) -> dict[str, Any]:
    """Every sum the formulas read, all different from one `scale` to another."""
    stocks: dict[str, Any] = {
        "population_end": 1000 * scale,
        "population_end_male": 490 * scale,
        "population_end_female": 510 * scale,
        "population_mid": 990 * scale,
        "women_15_49": 260 * scale,
        "aged_0_14": 230 * scale,
        "aged_15_64": 680 * scale,
        "aged_65_up": 80 * scale,
        "households_mid": 270 * scale,
        "women_by_group": [36 * scale + g for g in range(7)],
        "single_women": [30 * scale - 3 * g for g in range(8)],
        "known_women": [36 * scale + g for g in range(8)],
        "single_men": [33 * scale - 3 * g for g in range(8)],
        "known_men": [37 * scale + g for g in range(8)],
    }
    flows: dict[str, Any] = {
        column: (
            [3 * scale + g for g in range(7)]
            if column == "births_by_group"
            else (7 + n * scale) * scale
        )
        for n, column in enumerate(c for cs in FLOW_PARTS.values() for c in cs)
    }
    return stocks | flows


def test_every_indicator_reads_only_the_flow_parts_it_is_listed_under() -> None:
    whole = {v.indicator: v.value for v in indicator_values(sums(1), YEAR)}
    assert sum(not math.isnan(v) for v in whole.values()) == len(INDICATORS)
    for name, _ in INDICATORS:
        read = flow_parts_of(name)
        for part, columns in FLOW_PARTS.items():
            if part in read:
                continue
            other = sums(1) | {c: sums(5)[c] for c in columns}
            changed = {v.indicator: v.value for v in indicator_values(other, YEAR)}[name]
            assert changed == whole[name], f"{name} reads {part} but is not listed under it"
        stocks_and_read = {
            k: v
            for k, v in sums(1).items()
            if not any(k in FLOW_PARTS[p] for p in FLOW_PARTS if p not in read)
        }
        assert value_of(name, stocks_and_read, YEAR) == whole[name]
    with pytest.raises(LookupError):
        flow_parts_of("happiness")


def test_a_part_listed_for_an_indicator_is_one_it_reads() -> None:
    """The other way round: each listed part changes the indicator when it changes."""
    for name, _ in INDICATORS:
        for part in flow_parts_of(name):
            other = sums(1) | {c: sums(5)[c] for c in FLOW_PARTS[part]}
            before = {v.indicator: v.value for v in indicator_values(sums(1), YEAR)}[name]
            after = {v.indicator: v.value for v in indicator_values(other, YEAR)}[name]
            assert after != before, f"{name} is listed under {part} but does not read it"
