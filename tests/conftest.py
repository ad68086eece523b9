"""The stack the tests run against.

`--backend=embedded` (default) starts the real embedded stack (tansu on durable S3
storage, PostgreSQL, chDB) in a temporary directory on free loopback ports, once per
session. `--backend=containers` uses testcontainers (Kafka, PostgreSQL, ClickHouse)
when a Docker daemon is reachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from infra import stack
from infra.broker import Broker
from infra.ports import free_ports
from infra.postgres import Postgres
from schemas.settings import KafkaSettings, ProcessorSettings, Settings

# The indicator worker snapshots its fold this often, so that tests meet snapshots.
SNAPSHOT_EVERY = 500
PROCESSORS = ProcessorSettings(snapshot_every=SNAPSHOT_EVERY, snapshot_interval_s=0)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=["embedded", "containers"],
        default="embedded",
        help="embedded: popreg's own stack; containers: testcontainers (needs Docker)",
    )


@dataclass
class StackUnderTest:
    settings: Settings
    backend: str

    @contextmanager
    def stopped(self, name: Literal["broker", "postgres"]) -> Iterator[None]:
        """An embedded server stopped as `popreg down` stops it (gracefully, by pid) for
        the block, and started again after it as `popreg up` starts it."""
        if self.backend != "embedded":
            pytest.skip(f"{name} restarts are exercised on the embedded stack only")
        part = Broker(self.settings) if name == "broker" else Postgres(self.settings)
        part.stop()
        try:
            yield
        finally:
            part.start()

    def restart_broker(self) -> None:
        with self.stopped("broker"):
            pass

    def restart_postgres(self) -> None:
        with self.stopped("postgres"):
            pass


def embedded_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, ports=free_ports(), processors=PROCESSORS)


@pytest.fixture(scope="session")
def test_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StackUnderTest]:
    data_dir = tmp_path_factory.mktemp("stack")
    if request.config.getoption("--backend") == "containers":
        yield from containers_stack(data_dir)
        return
    settings = embedded_settings(data_dir)
    stack.up(settings)
    try:
        yield StackUnderTest(settings, "embedded")
    finally:
        stack.down(settings)


def containers_stack(data_dir: Path) -> Iterator[StackUnderTest]:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        pytest.skip(f"--backend=containers needs a reachable Docker daemon: {exc}")
    from testcontainers.clickhouse import ClickHouseContainer
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer().with_kraft() as kafka,
        PostgresContainer("postgres:17", driver=None, dbname="popreg") as pg,
        ClickHouseContainer("clickhouse/clickhouse-server:25.8") as ch,
    ):
        clickhouse_dsn = (
            f"http://{ch.username}:{ch.password}@{ch.get_container_host_ip()}"
            f":{ch.get_exposed_port(8123)}/{ch.dbname}"
        )
        settings = Settings(
            data_dir=data_dir,
            kafka=KafkaSettings(bootstrap_servers=kafka.get_bootstrap_server()),
            postgres_dsn=pg.get_connection_url(),
            clickhouse_dsn=clickhouse_dsn,
            processors=PROCESSORS,
        )
        stack.up(settings)
        yield StackUnderTest(settings, "containers")


@pytest.fixture
def settings(test_stack: StackUnderTest) -> Settings:
    return test_stack.settings
