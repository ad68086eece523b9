"""Settings: one place, environment and popreg.toml, embedded only as a default."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.settings import Settings, redact_url


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("POPREG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_are_the_embedded_stack_on_loopback() -> None:
    settings = Settings()
    assert settings.embedded_broker and settings.embedded_postgres and settings.embedded_clickhouse
    assert settings.bootstrap_servers == "127.0.0.1:19092"
    assert settings.clickhouse_url == "http://127.0.0.1:18123"
    assert settings.topics.events == "popreg.vital-events"
    assert settings.data_dir == Path(".popreg")


def test_environment_points_at_external_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPREG_KAFKA__BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("POPREG_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("POPREG_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("POPREG_KAFKA__SASL_USERNAME", "popreg")
    monkeypatch.setenv("POPREG_KAFKA__SASL_PASSWORD", "pw")
    monkeypatch.setenv("POPREG_POSTGRES_DSN", "postgresql://u:secret@db:5432/popreg")
    monkeypatch.setenv("POPREG_CLICKHOUSE_DSN", "https://u:p@ch:8443/popreg")
    monkeypatch.setenv("POPREG_TOPICS__PARTITIONS", "12")
    settings = Settings()
    assert not (settings.embedded_broker or settings.embedded_postgres)
    assert not settings.embedded_clickhouse
    assert settings.kafka_config() == {
        "bootstrap.servers": "k1:9092,k2:9092",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "popreg",
        "sasl.password": "pw",
    }
    assert settings.postgres_url == "postgresql://u:secret@db:5432/popreg"
    assert settings.topics.partitions == 12


def test_popreg_toml_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "popreg.toml").write_text(
        'schema_registry_url = "http://sr:8081"\n'
        "[ports]\nbroker = 29092\n[topics]\npartitions = 3\n"
    )
    monkeypatch.setenv("POPREG_TOPICS__PARTITIONS", "4")
    settings = Settings()
    assert settings.schema_registry_url == "http://sr:8081"
    assert settings.bootstrap_servers == "127.0.0.1:29092"
    assert settings.topics.partitions == 4


def test_chdb_dsn_keeps_clickhouse_embedded_at_that_path() -> None:
    settings = Settings(clickhouse_dsn="chdb:///srv/popreg/ch")
    assert settings.embedded_clickhouse
    assert settings.chdb_path == Path("/srv/popreg/ch")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("clickhouse_dsn", "tcp://ch:9000", "chdb://, http:// or https://"),
        ("postgres_dsn", "mysql://db", "postgresql://"),
    ],
)
def test_bad_dsn_is_rejected_with_the_rule(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})


def test_embedded_postgres_url_needs_a_stack_that_was_set_up(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "nothing-here")
    with pytest.raises(FileNotFoundError):
        _ = settings.postgres_url


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://u:secret@db:5432/x") == "postgresql://u:***@db:5432/x"
    assert redact_url("http://ch:8123") == "http://ch:8123"


def test_producers_linger_longer_on_the_embedded_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().linger_ms == 100
    monkeypatch.setenv("POPREG_KAFKA__BOOTSTRAP_SERVERS", "kafka-1:9092")
    assert Settings().linger_ms == 20
    monkeypatch.setenv("POPREG_KAFKA__LINGER_MS", "5")
    assert Settings().linger_ms == 5
    monkeypatch.setenv("POPREG_KAFKA__LINGER_MS", "-1")
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        Settings()


def test_the_state_projector_runs_nicer_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().processors.nice == {"state": 10}
    monkeypatch.setenv("POPREG_PROCESSORS__NICE", '{"state": 0, "indicators": 5}')
    assert Settings().processors.nice == {"state": 0, "indicators": 5}
    for wrong, message in (('{"state": -1}', "greater than or equal to 0"), ('{"x": 1}', "'x'")):
        monkeypatch.setenv("POPREG_PROCESSORS__NICE", wrong)
        with pytest.raises(ValidationError, match=message):
            Settings()


@pytest.mark.parametrize(
    ("names", "defaults", "given", "wrong"),
    [
        # the fold is snapshotted every 100k events, at most every 10 min
        (("snapshot_every", "snapshot_interval_s"), (100_000, 600.0), (5000, 0.0), (0, -1)),
        # workers take batches of up to 3,000 and wait 250 ms on a fetch
        (("batch_size", "fetch_wait_ms"), (3000, 250), (1000, 500), (0, 0)),
    ],
)
def test_processor_settings_have_defaults_read_the_environment_and_refuse_too_small(
    monkeypatch: pytest.MonkeyPatch,
    names: tuple[str, str],
    defaults: tuple[float, float],
    given: tuple[float, float],
    wrong: tuple[float, float],
) -> None:
    def found() -> tuple[object, ...]:
        processors = Settings().processors
        return tuple(getattr(processors, name) for name in names)

    assert found() == defaults
    for name, value in zip(names, given, strict=True):
        monkeypatch.setenv(f"POPREG_PROCESSORS__{name.upper()}", str(value))
    assert found() == given
    for name, value in zip(names, wrong, strict=True):
        monkeypatch.setenv(f"POPREG_PROCESSORS__{name.upper()}", str(value))
        with pytest.raises(ValidationError, match="greater than or equal to"):
            Settings()
        monkeypatch.delenv(f"POPREG_PROCESSORS__{name.upper()}")


def test_a_missing_login_password_says_what_makes_it(tmp_path: Path) -> None:
    from schemas.settings import PROJECTOR_LOGIN

    with pytest.raises(FileNotFoundError, match="popreg up"):
        Settings(data_dir=tmp_path).login_url(PROJECTOR_LOGIN)
