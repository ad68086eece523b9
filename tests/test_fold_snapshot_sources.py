"""A fold snapshot is stale when the code that made it changes: its fingerprint covers
the pure domain (where the fold and the indicator rows live) and the ground floor."""

from __future__ import annotations

from pathlib import Path

from projections import fold_snapshot
from projections.domain import fold, indicator_rows
from schemas import models


def test_the_fingerprint_covers_the_fold_the_indicator_rows_and_the_event_model() -> None:
    covered = {path.resolve() for path in fold_snapshot.fold_sources()}
    for module in (fold, indicator_rows, models):
        assert module.__file__ is not None
        assert Path(module.__file__).resolve() in covered
    assert any(path.suffix == ".avsc" for path in covered)
