"""What every popreg worker shares: a faust app that hands decoded batches to a sink.

Events come in batches (`take_events`), markers are skipped, undecodable messages
become records with the reason, and the batch goes to the sink in a thread (sinks
block on their database). On every assignment faust resumes from the positions the
sink stored (`PositionedApp`), so faust's own commits are only a hint. Each batch's
log line ends with its lag: from the oldest message's producer timestamp to the sink's
commit, what an operator (and the freshness bench) reads to tell where time goes.

A worker may also have work to do while no batch comes (the indicator worker reaps
its snapshot child and starts the snapshot that is due): `idle` runs every
`IDLE_EVERY_S` in the same executor, never at the same time as a batch.

A batch the sink fails to write (its database down, say) ends the worker process
(`EXIT_SINK_FAILED`). Otherwise faust restarts the agent inside the same process, on a
stream that has already handed out the failed batch's messages (nothing seeks back
to the stored positions), and with PostgreSQL stopped a second failure leaves the agent
consuming nothing, for good, in a live process. The supervisor restarts the worker,
with backoff, and the new process resumes from the positions the sink stored, as
after a kill -9.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn, TypeVar

import faust

from infra import worker_health as health
from projections.domain.record import Record
from projections.log import decode, is_marker
from schemas.settings import KafkaSettings, Settings
from schemas.wire import Codec
from stream_processors.positioned import PositionedApp, Positions

WITHIN_S = 0.2
IDLE_EVERY_S = 1.0
T = TypeVar("T")
EXIT_SINK_FAILED = 75  # EX_TEMPFAIL: the supervisor starts the worker again

# A batch's records, the next offset per partition it reaches, and whether it was the
# last of a backlog (fewer than `processors.batch_size` came); returns a line for the log.
Handler = Callable[[list[Record], dict[int, int], bool], str]


def broker_credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """The workers log in to a cluster as popreg's confluent-kafka clients do
    (`Settings.kafka_config`): SASL with the configured mechanism, over TLS for
    SASL_SSL; TLS alone for SSL. A cluster that refuses anonymous clients (the compose
    file's) would otherwise not let the workers read."""
    context = None
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=kafka.ssl_ca_location)
        if kafka.ssl_certificate_location:
            context.load_cert_chain(kafka.ssl_certificate_location, kafka.ssl_key_location)
    if kafka.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=kafka.sasl_username,
            password=kafka.sasl_password,
            mechanism=kafka.sasl_mechanism or "PLAIN",
            ssl_context=context,
        )
    return None if context is None else faust.SSLCredentials(context)


def faust_settings(settings: Settings, name: str) -> dict[str, Any]:
    """What every popreg worker tells faust: brokers, credentials, data under data_dir."""
    servers = settings.bootstrap_servers.split(",")
    credentials = broker_credentials(settings.kafka)
    return {
        **({} if credentials is None else {"broker_credentials": credentials}),
        "broker": [f"kafka://{server.strip()}" for server in servers],
        "datadir": str(settings.resolved_data_dir / "faust" / name),
        "web_enabled": False,
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.topics.replication_factor,
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": 6.0,
        "broker_heartbeat_interval": 1.0,
        "producer_acks": -1,
    }


def batch_app(
    settings: Settings,
    name: str,
    positions: Positions,
    handle: Handler,
    idle: Callable[[], None] | None = None,
) -> PositionedApp:
    codec = Codec(settings.schema_registry_url)
    app = PositionedApp(
        f"popreg-{name}",
        positions=positions,
        fetch_wait_ms=settings.processors.fetch_wait_ms,
        **faust_settings(settings, name),
    )
    topic = app.topic(
        settings.topics.events, value_serializer="raw", key_serializer="raw", internal=False
    )
    log = logging.getLogger(f"popreg.worker.{name}")
    batch_size = settings.processors.batch_size
    data_dir = settings.resolved_data_dir
    progressed: list[bool] = []  # whether a batch was written since this worker started
    one_at_a_time = threading.Lock()

    async def alone(work: Callable[[], T]) -> T:
        """In the executor (sinks block), never beside a batch or other idle work."""

        def locked() -> T:
            with one_at_a_time:
                return work()

        return await asyncio.get_running_loop().run_in_executor(None, locked)

    @app.agent(topic)
    async def project(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=WITHIN_S):
            records = [
                decode(codec, e.message.partition, e.message.offset, e.message.value, keep=True)
                for e in events
                if not is_marker(e.message.headers)
            ]
            ends = {e.message.partition: e.message.offset + 1 for e in events}
            caught_up = len(events) < batch_size
            oldest = min(e.message.timestamp for e in events)
            try:
                line = await alone(partial(handle, records, ends, caught_up))
            except Exception as error:
                log.exception("batch failed; the worker exits, to resume from stored positions")
                health.report_failure(data_dir, name, error)
                exit_now(EXIT_SINK_FAILED)
            if not progressed:
                health.report_progress(data_dir, name)
                progressed.append(True)
            log.info("batch of %d: %s; lag %.2f s", len(events), line, time.time() - oldest)

    if idle is not None:

        async def between_batches() -> None:
            try:
                await alone(idle)
            except Exception:  # housekeeping: the next tick tries again
                log.exception("idle work failed")

        app.timer(IDLE_EVERY_S)(between_batches)

    return app


def exit_now(code: int) -> NoReturn:
    """End the process at once (no faust shutdown, which could write or wait on the
    very server that failed); what was not stored is read again by the next worker."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
