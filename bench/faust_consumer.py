"""The baseline for the live projector's speed: bare faust consuming the same topic.

Same broker, same topic, same batching (`take_events`) as the state projector, but no
decoding and no sink: what faust itself costs per event here. `popreg bench` runs it
as a process and reads the JSON it writes when it has seen `--count` records.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import faust

from schemas.settings import Settings
from stream_processors.batches import WITHIN_S, faust_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings.model_validate_json(args.settings.read_text())
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App("popreg-bench-faust", **faust_settings(settings, "bench-faust"))
    topic = app.topic(
        settings.topics.events, value_serializer="raw", key_serializer="raw", internal=False
    )
    seen = {"count": 0, "first_batch_at": 0.0}

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for events in stream.take_events(settings.processors.batch_size, within=WITHIN_S):
            if not seen["count"]:
                seen["first_batch_at"] = time.time()
            seen["count"] += len(events)
            if seen["count"] >= args.count:  # the bench stops this process by pid
                args.out.write_text(json.dumps({**seen, "done_at": time.time()}))

    faust.Worker(app, loglevel="WARN", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
