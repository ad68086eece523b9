"""Any JSON at any place of any event: validation answers with an event or with named
problems, never with another exception, and what it accepts survives Avro (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.admin_units import load
from schemas.codec import decode_single_object, encode_single_object
from schemas.models import Context
from schemas.validation import InvalidEvent, parse_event
from tests.samples import SAMPLES, sample

CONTEXT = Context(load(), datetime(2026, 11, 24, 3, 0, tzinfo=UTC))

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(["2024-03-01", "0001-01-01T00:00:00+14:00", "9999-12-31", "1e400", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += paths(item, (*path, n))
    return found


def put(value: Any, path: tuple[str | int, ...], new: Any) -> Any:
    if not path:
        return new
    head, *rest = path
    if isinstance(value, list):
        return [put(v, tuple(rest), new) if n == head else v for n, v in enumerate(value)]
    return {**value, head: put(value.get(head), tuple(rest), new)}  # type: ignore[dict-item]


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_json_anywhere_is_an_event_or_named_problems(data: st.DataObject) -> None:
    event = sample(data.draw(st.sampled_from(sorted(SAMPLES))))
    where = data.draw(st.sampled_from(paths(event)))
    mutated = put(event, where, data.draw(JSON))
    for context in (CONTEXT, None):
        try:
            parsed = parse_event(mutated, context)
        except InvalidEvent as invalid:
            assert invalid.problems
            assert all(p.rule and "\x00" not in str(p) for p in invalid.problems)
            continue
        assert decode_single_object(encode_single_object(parsed)) == parsed
