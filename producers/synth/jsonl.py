"""Writing a synthetic stream as JSON Lines, the shape `popreg publish` reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from producers.synth.generator import Synth
from schemas.validation import event_json

PROGRESS_EVERY = 10_000


def write_jsonl(synth: Synth, path: Path, on_event: Callable[[int], None] | None = None) -> int:
    """Write one `event_json` per line; return how many. `on_event(n)` reports progress."""
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for event in synth.events():
            handle.write(json.dumps(event_json(event), ensure_ascii=False))
            handle.write("\n")
            written += 1
            if on_event is not None and written % PROGRESS_EVERY == 0:
                on_event(written)
    if on_event is not None:
        on_event(written)
    return written
