"""The state projector: a faust worker from `popreg.vital-events` to PostgreSQL.

Events come in batches (`take_events`), are decoded (markers skipped, undecodable
messages rejected with a reason) and handed to the PostgreSQL sink, which applies
the fold and writes the rows, the rejections and the next offsets per partition in
one transaction. On every assignment the worker resumes from those stored offsets
(`PositionedApp`), so faust's own commits are only a hint.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust

from popreg.settings import Settings
from projections.log import decode, is_marker
from projections.postgres_sink import StateSink
from schemas.codec import Codec
from stream_processors.positioned import PositionedApp

CONSUMER = "state"
BATCH = 1000
WITHIN_S = 0.2
log = logging.getLogger("popreg.worker.state")


def faust_settings(settings: Settings, name: str) -> dict[str, Any]:
    """What every popreg worker tells faust: brokers, loopback only, data under data_dir."""
    servers = settings.bootstrap_servers.split(",")
    return {
        "broker": [f"kafka://{server.strip()}" for server in servers],
        "datadir": str(settings.resolved_data_dir / "faust" / name),
        "web_enabled": False,
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "producer_acks": -1,
    }


def create_app(settings: Settings) -> PositionedApp:
    sink = StateSink(settings, CONSUMER)
    codec = Codec(settings.schema_registry_url)
    app = PositionedApp(
        f"popreg-{CONSUMER}", positions=sink.positions, **faust_settings(settings, CONSUMER)
    )
    topic = app.topic(
        settings.topics.events, value_serializer="raw", key_serializer="raw", internal=False
    )

    @app.agent(topic)
    async def project(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        async for events in stream.take_events(BATCH, within=WITHIN_S):
            records = [
                decode(codec, e.message.partition, e.message.offset, e.message.value)
                for e in events
                if not is_marker(e.message.headers)
            ]
            ends = {e.message.partition: e.message.offset + 1 for e in events}
            result = await loop.run_in_executor(
                None, sink.apply, settings.topics.events, records, ends
            )
            log.info(
                "batch of %d: applied %d, rejected %d, duplicates %d, re-folded %d",
                len(events),
                result.applied,
                result.rejected + result.undecodable,
                result.duplicates,
                result.refolded,
            )

    return app


def run(settings: Settings) -> None:
    (settings.resolved_data_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel="INFO", redirect_stdouts=False)
    worker.execute_from_commandline()
