"""What a test checks after a fault while both processors consume: `Before` takes
their figures first, `assert_exact` that both stores hold exactly the fold of the
test's events and that the counts moved by exactly the fold's outcomes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from infra.supervisor import read_status
from projections.clickhouse_schema import DATABASE
from projections.domain.indicator_rows import NO_EVENT
from projections.log import partition_count, place_markers
from schemas.models import Event
from schemas.settings import Settings
from tests.id_space import Ids
from tests.indicator_store import expected, held
from tests.state_store import archive_totals, assert_projected, counts, folded
from tests.waiting import wait_counted, wait_projected

RECOVERY_S = 120  # a worker restart waits out its dead member's session (~12 s) and backoff


def workers(settings: Settings) -> dict[str, tuple[int | None, int]]:
    """Each worker's pid (None between restarts) and restarts, as the supervisor says."""
    found: dict[str, tuple[int | None, int]] = {}
    for name, doc in read_status(settings.resolved_data_dir).items():
        pid, restarts = doc.get("pid"), doc.get("restarts")
        found[name] = (
            pid if isinstance(pid, int) else None,
            restarts if isinstance(restarts, int) else 0,
        )
    return found


def quiesce_both(settings: Settings, client: Any) -> None:
    """Until both processors have read everything on the topic so far (end markers)."""
    topic = settings.topics.events
    ends = place_markers(settings, topic, partition_count(settings, topic))
    wait_projected(settings, ends, timeout_s=RECOVERY_S)
    wait_counted(client, settings, ends, timeout_s=RECOVERY_S)


def undecodable_in_clickhouse(client: Any) -> Counter[str]:
    """Rejections of messages that are not events, by reason, as ClickHouse sums them."""
    result = client.query(
        f"SELECT reason, sum(sign) FROM {DATABASE}.rejections"
        " WHERE event_id = {none:UUID} GROUP BY reason",
        parameters={"none": str(NO_EVENT)},
    )
    return Counter({str(reason): int(n) for reason, n in result.result_rows})


class Before:
    """The processors' figures before a test's traffic, to check exactly what it moved."""

    def __init__(self, settings: Settings, client: Any) -> None:
        quiesce_both(settings, client)
        self.counts = counts(settings)
        self.undecodable = undecodable_in_clickhouse(client)
        self.workers = workers(settings)

    def restarts(self, settings: Settings) -> dict[str, int]:
        now = workers(settings)
        return {name: now[name][1] - self.workers[name][1] for name in now}


def assert_exact(
    settings: Settings,
    client: Any,
    ids: Ids,
    before: Before,
    events: list[Event],
    published: int,
    undecodable: Counter[str] | None = None,
) -> None:
    """Both stores hold exactly the fold of `events` (`published` messages carried them,
    duplicates included), and the counts moved by exactly the fold's outcomes."""
    assert_projected(settings, ids, events)
    want = Counter(outcome for outcome, _ in folded(events).outcomes.values())
    after = counts(settings)
    change = {k: after[k] - before.counts[k] for k in after}
    unique = len({e.envelope.event_id for e in events})
    undecodable = undecodable or Counter()
    assert {k: change[k] for k in ("applied", "rejected", "voided", "undecodable")} == {
        "applied": want["applied"],
        "rejected": want["rejected"],
        "voided": want["voided"],
        "undecodable": undecodable.total(),
    }
    assert change["duplicates"] == published - unique
    totals = archive_totals(settings)
    assert {k: after[k] for k in totals} == totals

    assert held(client, settings, events) == expected(settings, events)
    found, was = undecodable_in_clickhouse(client), before.undecodable
    change_by_reason = {r: found[r] - was[r] for r in found | was if found[r] != was[r]}
    assert change_by_reason == dict(undecodable)
