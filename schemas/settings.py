"""All of popreg's settings, in one place.

Values come from (highest first) explicit arguments, `POPREG_*` environment
variables (nested with `__`, e.g. `POPREG_KAFKA__BOOTSTRAP_SERVERS`), an optional
`popreg.toml` in the working directory (or the file named by `POPREG_CONFIG`), and
the defaults below. A server left unset is provided by the embedded stack; a
server that is set is used as it is and never started by popreg.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

LOOPBACK = "127.0.0.1"
# The embedded ClickHouse's database and the user popreg's processors write it as.
CLICKHOUSE_DATABASE = "popreg"
CLICKHOUSE_WRITER_USER = "popreg"
# popreg's own PostgreSQL logins on the embedded server, each holding one group role
# (projections/sql/postgres/006_…, 008_…), and the secret file of each one's password:
# the state projector and `rebuild state` write the registry (popreg_projector); the
# gateway reads ids and commune codes, to check a token's authority.
PROJECTOR_LOGIN = "popreg_projector_login"
GATEWAY_LOGIN = "popreg_gateway_login"
POSTGRES_LOGINS = {
    PROJECTOR_LOGIN: "postgres-projector.password",
    GATEWAY_LOGIN: "postgres-gateway.password",
}


class KafkaSettings(BaseModel):
    """How to reach the Kafka cluster; `bootstrap_servers=None` means the embedded broker."""

    bootstrap_servers: str | None = None
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    linger_ms: int | None = Field(
        default=None,
        ge=0,
        description="how long producers gather a batch; default 100 ms on the embedded"
        " broker, where each batch becomes an S3 object (at 1,000 events/s, 20 ms keeps"
        " the S3 store busy a whole core; docs/decisions/0011), 20 ms on a cluster",
    )


class TopicSettings(BaseModel):
    events: str = "popreg.vital-events"
    rejected: str = "popreg.vital-events.rejected"
    healthcheck: str = "popreg.healthcheck"
    partitions: int | None = Field(
        default=None,
        ge=1,
        description="partitions of the event and rejection topics when popreg creates them;"
        " default 2 on the embedded broker (each partition a consumer fetches costs the S3"
        " store reads: at 1,000 events/s, 6 partitions keep it twice as busy as 2;"
        " docs/decisions/0011), 6 on a cluster. An existing topic keeps the count it was"
        " created with",
    )
    replication_factor: int = Field(default=1, ge=1)


class PortSettings(BaseModel):
    """Loopback ports of the embedded parts; change them to run two stacks side by side."""

    broker: int = 19092
    postgres: int = 15432
    clickhouse_http: int = 18123
    portal: int = Field(default=18580, description="the web portal (`popreg portal`)")
    seaweed_base: int = Field(
        default=18300,
        description="first of a block of SEAWEED_PORT_COUNT ports used by the S3 store",
    )


class GatewaySettings(BaseModel):
    """The HTTP ingest gateway for collaborators' mobile apps (`popreg gateway`)."""

    host: str = Field(default=LOOPBACK, description="put a TLS reverse proxy in front of it")
    port: int = 18480
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_batch: int = Field(default=500, ge=1)
    tokens_file: Path | None = Field(
        default=None, description="hashed commune tokens; default <data_dir>/secrets/"
    )


class PortalUser(BaseModel):
    """Who may look at the portal, and at what: a province's viewer sees that province
    and its communes; a viewer with no province sees the whole nation. The password is
    generated into `<data_dir>/secrets/portal-<name>.password` by `popreg up`, never
    written here."""

    role: Literal["viewer"] = "viewer"
    province: Annotated[str, Field(pattern=r"^\d{2}$")] | None = None


class PortalSettings(BaseModel):
    """The web portal of maps and indicators (`popreg portal`). It listens on loopback
    only (put a TLS reverse proxy in front of it) and reads ClickHouse through the
    analysts' read-only endpoint."""

    enabled: bool = Field(default=True, description="whether `popreg up` starts it")
    users: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")], PortalUser] = {
        "ca-mau": PortalUser(province="96"),
        "national": PortalUser(province=None),
    }
    session_hours: float = Field(default=8.0, gt=0, description="how long a login lasts")

    @property
    def host(self) -> str:
        return LOOPBACK


Processor = Literal["state", "indicators"]
Niceness = Annotated[int, Field(ge=0, le=19)]


class ProcessorSettings(BaseModel):
    """How the stream workers share a machine."""

    nice: dict[Processor, Niceness] = Field(
        default={"state": 10},
        description="CPU niceness per worker, set on its session too. The state projector's"
        " default 10 lets the indicator path (broker, indicator processor, ClickHouse: a"
        " 2 s freshness aim) have the CPU first where they share one; it catches up when"
        " the CPU is free (docs/decisions/0012)",
    )
    batch_size: int = Field(
        default=3000,
        ge=1,
        description="most events a worker folds and writes at once; a backlog comes in"
        " batches this big, a trickle in what arrived within 0.2 s. A batch's fixed costs"
        " (a ClickHouse insert, a PostgreSQL transaction) are paid once a batch: a worker"
        " that falls behind catches up in bigger batches instead of staying behind",
    )
    fetch_wait_ms: int = Field(
        default=250,
        ge=1,
        description="how long a worker's fetch may wait on the broker for new events"
        " (faust's own is 1.5 s, which embedded tansu always waits out). Every fetch"
        " makes embedded tansu list the partition's stored batches: shorter waits mean"
        " more listing work for the S3 store (docs/decisions/0011)",
    )
    snapshot_every: int = Field(
        default=100_000,
        ge=1,
        description="the indicator processor writes its fold to disk (in the background)"
        " once this many of the events it holds are in no snapshot, so that a start"
        " folds only the events after the last snapshot, not the whole log",
    )
    snapshot_interval_s: float = Field(
        default=600.0,
        ge=0,
        description="and at most once in this many seconds: at province scale a snapshot"
        " takes minutes of a background core, and a busy stream could ask for one every"
        " few minutes",
    )


class AnalystLimits(BaseModel):
    """What one query on the embedded ClickHouse host's analysts' endpoint may cost
    (`infra/chdb_host.py`; docs/decisions/0002-analyst-endpoint-limits.md). Without
    them one analyst could keep a core busy for minutes, hold gigabytes, or starve the
    indicator processor's writes."""

    max_execution_s: float = Field(
        default=60.0, gt=0, description="an analyst's query stops here (TIMEOUT_EXCEEDED)"
    )
    max_memory_bytes: int = Field(
        default=2 << 30,
        ge=1 << 20,
        description="memory one analyst's query may use (MEMORY_LIMIT_EXCEEDED past it);"
        " times max_concurrent_queries is what analysts can take from the host",
    )
    max_result_rows: int = Field(default=10_000_000, ge=1, description="rows one result may hold")
    max_result_bytes: int = Field(
        default=512 << 20, ge=1 << 10, description="uncompressed bytes one result may hold"
    )
    max_concurrent_queries: int = Field(
        default=4, ge=1, description="queries one analyst user runs at once; more wait"
    )
    max_queued: int = Field(
        default=64, ge=0, description="queries that may wait for a slot; more get 503 at once"
    )
    queue_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="how long a query waits for a slot before 503 with Retry-After",
    )
    max_body_bytes: int = Field(
        default=256 << 20,
        ge=1 << 10,
        description="largest request body, counted decompressed, for every user of the host"
        " (the writer's inserts too)",
    )


class EmbeddedSettings(BaseModel):
    broker_storage: Literal["s3", "memory"] = Field(
        default="s3",
        description="s3 = durable (SeaweedFS under the data dir); memory = lost on stop",
    )
    min_free_disk_mb: int = Field(default=512, ge=0)
    start_timeout_s: float = Field(default=60.0, gt=0)
    stop_timeout_s: float = Field(default=20.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POPREG_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path(".popreg")
    kafka: KafkaSettings = KafkaSettings()
    schema_registry_url: str | None = None
    postgres_dsn: str | None = None
    clickhouse_dsn: str | None = None
    clickhouse_analyst_user: str = Field(
        default="analyst", description="read-only user of the embedded ClickHouse HTTP port"
    )
    topics: TopicSettings = TopicSettings()
    ports: PortSettings = PortSettings()
    embedded: EmbeddedSettings = EmbeddedSettings()
    gateway: GatewaySettings = GatewaySettings()
    portal: PortalSettings = PortalSettings()
    processors: ProcessorSettings = ProcessorSettings()
    analyst_limits: AnalystLimits = AnalystLimits()
    disclosure_k: int = Field(
        default=5,
        ge=1,
        description="every combination of quasi-identifiers in the analysts' row-level"
        " views holds at least this many persons (households); rarer rows are coarsened,"
        " then left out. Written to PostgreSQL's analyst.disclosure on `popreg up`"
        " (docs/decisions/0004-disclosure-control.md)",
    )

    @field_validator("clickhouse_dsn")
    @classmethod
    def _clickhouse_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"chdb", "http", "https"}:
            raise ValueError("clickhouse_dsn must start with chdb://, http:// or https://")
        return value

    @field_validator("clickhouse_analyst_user")
    @classmethod
    def _analyst_is_not_the_writer(cls, value: str) -> str:
        if value == CLICKHOUSE_WRITER_USER:
            raise ValueError(
                f"{CLICKHOUSE_WRITER_USER!r} is the writer; name the analyst otherwise"
            )
        return value

    @field_validator("postgres_dsn")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"postgresql", "postgres"}:
            raise ValueError("postgres_dsn must start with postgresql://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get("POPREG_CONFIG", "popreg.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )

    # --- which parts the embedded stack provides -------------------------------------

    @property
    def embedded_broker(self) -> bool:
        return self.kafka.bootstrap_servers is None

    @property
    def embedded_postgres(self) -> bool:
        return self.postgres_dsn is None

    @property
    def embedded_clickhouse(self) -> bool:
        return self.clickhouse_dsn is None or self.clickhouse_dsn.startswith("chdb://")

    @property
    def linger_ms(self) -> int:
        if self.kafka.linger_ms is not None:
            return self.kafka.linger_ms
        return 100 if self.embedded_broker else 20

    @property
    def partitions(self) -> int:
        if self.topics.partitions is not None:
            return self.topics.partitions
        return 2 if self.embedded_broker else 6

    # --- resolved addresses -----------------------------------------------------------

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers or f"{LOOPBACK}:{self.ports.broker}"

    def kafka_config(self, **extra: Any) -> dict[str, Any]:
        """librdkafka configuration shared by every producer, consumer and admin client."""
        kafka = self.kafka
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": kafka.security_protocol,
        }
        optional = {
            "sasl.mechanism": kafka.sasl_mechanism,
            "sasl.username": kafka.sasl_username,
            "sasl.password": kafka.sasl_password,
            "ssl.ca.location": kafka.ssl_ca_location,
            "ssl.certificate.location": kafka.ssl_certificate_location,
            "ssl.key.location": kafka.ssl_key_location,
        }
        config.update({key: value for key, value in optional.items() if value is not None})
        config.update(extra)
        return config

    @property
    def gateway_tokens_file(self) -> Path:
        return (
            self.gateway.tokens_file or self.resolved_data_dir / "secrets" / "gateway-tokens.json"
        )

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def chdb_path(self) -> Path:
        if self.clickhouse_dsn is not None and self.clickhouse_dsn.startswith("chdb://"):
            return Path(self.clickhouse_dsn.removeprefix("chdb://"))
        return self.resolved_data_dir / "clickhouse"

    @property
    def postgres_password_file(self) -> Path:
        return self.resolved_data_dir / "secrets" / "postgres.password"

    @property
    def clickhouse_writer_password_file(self) -> Path:
        return self.resolved_data_dir / "secrets" / "clickhouse-writer.password"

    @property
    def clickhouse_analyst_password_file(self) -> Path:
        return self.resolved_data_dir / "secrets" / "clickhouse-analyst.password"

    def portal_password_file(self, user: str) -> Path:
        return self.resolved_data_dir / "secrets" / f"portal-{user}.password"

    @property
    def portal_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.portal}"

    @property
    def postgres_url(self) -> str:
        """The DSN every PostgreSQL client uses: the configured one or the embedded server's."""
        if self.postgres_dsn is not None:
            return self.postgres_dsn
        password = self.postgres_password_file.read_text().strip()
        return f"postgresql://postgres:{password}@{LOOPBACK}:{self.ports.postgres}/popreg"

    def login_password_file(self, login: str) -> Path:
        return self.resolved_data_dir / "secrets" / POSTGRES_LOGINS[login]

    def login_url(self, login: str) -> str:
        """Where a part of popreg connects as its own login (POSTGRES_LOGINS) on the
        embedded server, whose password `popreg up` sets; a configured server's DSN is
        used as it is (give it such a login, as the embedded stack does)."""
        if self.postgres_dsn is not None:
            return self.postgres_dsn
        path = self.login_password_file(login)
        try:
            password = path.read_text().strip()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"no password for PostgreSQL login {login} at {path}: `popreg up` makes it"
            ) from None
        return f"postgresql://{login}:{password}@{LOOPBACK}:{self.ports.postgres}/popreg"

    @property
    def clickhouse_url(self) -> str:
        """Where clients reach ClickHouse over HTTP: a server, or the process hosting chDB."""
        if self.clickhouse_dsn is not None and not self.clickhouse_dsn.startswith("chdb://"):
            return self.clickhouse_dsn
        return f"http://{LOOPBACK}:{self.ports.clickhouse_http}"


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


def redact_url(url: str) -> str:
    """Hide the password of a DSN before it is shown or logged."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def env_of(settings: Settings) -> dict[str, str]:
    """Environment variables that make a `popreg` subprocess use these settings' data
    directory, ports and topic (the bench and the tests run the command this way)."""
    ports = settings.ports
    return {
        "POPREG_DATA_DIR": str(settings.data_dir),
        "POPREG_PORTS__BROKER": str(ports.broker),
        "POPREG_PORTS__POSTGRES": str(ports.postgres),
        "POPREG_PORTS__CLICKHOUSE_HTTP": str(ports.clickhouse_http),
        "POPREG_PORTS__SEAWEED_BASE": str(ports.seaweed_base),
        "POPREG_PORTS__PORTAL": str(ports.portal),
        "POPREG_TOPICS__EVENTS": settings.topics.events,
    }
