"""Turning untrusted JSON into events, or into problems that name the field and the rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from schemas.models import EVENT_MODELS, AnyEvent, Context, Event
from schemas.text import printable

_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)


@dataclass(frozen=True)
class Problem:
    """One broken rule: `field` is a dotted path ('' for the whole event)."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        where = self.field or "event"
        return f"{where}: {self.message} [{self.rule}]"


class InvalidEvent(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def problems_of(error: ValidationError) -> list[Problem]:
    found = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        if loc and loc[0] in EVENT_MODELS:  # the discriminator's branch, not a field
            loc = loc[1:]
        rule = item["type"]
        if rule == "union_tag_invalid":
            rule, loc = "unknown_type", ["type"]
        elif rule == "union_tag_not_found":
            rule, loc = "missing", ["type"]
        # A message may quote the input: kept printable, it can be logged and stored.
        found.append(Problem(printable(".".join(loc)), rule, printable(item["msg"])))
    return found


def parse_event(data: Any, context: Context | None = None) -> Event:
    """Validate one event in the JSON shape; raise InvalidEvent listing every problem."""
    try:
        return _ADAPTER.validate_python(data, context={"popreg": context})
    except ValidationError as error:
        raise InvalidEvent(problems_of(error)) from None


def event_json(event: Event) -> dict[str, Any]:
    """The JSON shape read by `parse_event` (and written by `popreg synth`)."""
    return event.model_dump(mode="json")
