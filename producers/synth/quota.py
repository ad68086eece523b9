"""How often each kind of irregularity is made: a rate of the events of one type.

Each kind earns `rate` for every true event of its type delivered (of any type, for
a kind with no type) and is made at the first occasion that suits it once its credit
reaches 1. The credit starts at 1, so the first event of each type that can carry an
irregularity does: every kind occurs in the smallest province, and from then on
each type carries about `rate` of its own events, so the mix stays the stream's (a
rare type, divorces, is not corrected more often than births).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Delivered:
    """How many true events have been delivered, in all and by type: the clock the
    quotas earn by."""

    count: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


class Quota:
    def __init__(self, rate: float, kinds: dict[str, str | None], delivered: Delivered) -> None:
        """`kinds` names the event type each kind earns from (None: every event)."""
        self.active = rate > 0
        self._period = 1.0 / rate if self.active else 0.0  # events per irregularity
        self._types = kinds
        self._delivered = delivered
        self._due_at = dict.fromkeys(kinds, 0.0)  # the count of its events it is due at

    def ready(self, kind: str) -> bool:
        if not self.active:
            return False
        of_type = self._types[kind]
        delivered = self._delivered
        count = delivered.count if of_type is None else delivered.by_type[of_type]
        return count >= self._due_at[kind]

    def spend(self, kind: str) -> None:
        self._due_at[kind] += self._period

    def refund(self, kind: str) -> None:
        """One of `kind` spent in vain: the next occasion may make it again."""
        self._due_at[kind] -= self._period

    def take(self, kind: str) -> bool:
        """Spend one of `kind` if it is due."""
        if not self.ready(kind):
            return False
        self.spend(kind)
        return True
