"""The indicator processor's ClickHouse tables as a test sees them, and what they
must hold: `held` nets the rows of a test's own events, `expected` nets the
indicator fold of them (with the stack's own pseudonym key)."""

from __future__ import annotations

from typing import Any

from infra import secrets
from projections.clickhouse_sink import IndicatorSink, canonical_rows
from projections.domain.indicator_rows import fold_all
from projections.domain.record import Record
from schemas.admin_units import load
from schemas.models import Event
from schemas.settings import Settings
from tests.verdicts import net

CONSUMER = "indicators"


def sink(client: Any, settings: Settings) -> IndicatorSink:
    return IndicatorSink(client, CONSUMER, settings.topics.events)


def expected(settings: Settings, events: list[Event]) -> Any:
    secret = secrets.get_or_create(settings.resolved_data_dir, "pseudonym.key").encode()
    records = [Record(0, n, e, None, None) for n, e in enumerate(events)]
    return net(canonical_rows(fold_all(records, load(), secret).all_rows()))


def held(client: Any, settings: Settings, events: list[Event]) -> Any:
    """The net rows ClickHouse holds for these events."""
    ids = {str(e.envelope.event_id) for e in events}
    return net([r for r in sink(client, settings).net_rows() if r[1][0] in ids])
