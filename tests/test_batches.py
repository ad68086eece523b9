"""The workers' faust app takes its fetch wait from the settings (pure: no broker)."""

from __future__ import annotations

import asyncio

import aiokafka
import pytest

from schemas.settings import ProcessorSettings, Settings
from stream_processors.batches import batch_app
from stream_processors.positioned import PromptConsumer


def test_the_consumer_faust_builds_waits_on_a_fetch_as_long_as_the_settings_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(PromptConsumer, "fetch_max_wait_ms", 250)  # restored afterwards
    settings = Settings(processors=ProcessorSettings(fetch_wait_ms=321))
    batch_app(settings, "test-fetch-wait", lambda keys: {}, lambda records, ends, caught: "")

    async def built() -> int:  # as faust's driver builds it, in a running loop
        consumer = aiokafka.AIOKafkaConsumer("t", bootstrap_servers="127.0.0.1:9")
        wait: int = consumer._fetch_max_wait_ms
        return wait

    assert asyncio.run(built()) == 321


def test_the_workers_log_in_to_a_cluster_as_popregs_other_clients_do() -> None:
    import faust

    from schemas.settings import KafkaSettings
    from stream_processors.batches import broker_credentials

    plain = KafkaSettings(bootstrap_servers="k:9092")
    assert broker_credentials(plain) is None
    sasl = KafkaSettings(
        bootstrap_servers="k:9092",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="popreg",
        sasl_password="secret",
    )
    found = broker_credentials(sasl)
    assert isinstance(found, faust.SASLCredentials)
    assert (found.username, found.password, found.mechanism.value) == (
        "popreg",
        "secret",
        "SCRAM-SHA-512",
    )
    assert found.ssl_context is None
    tls = broker_credentials(sasl.model_copy(update={"security_protocol": "SASL_SSL"}))
    assert isinstance(tls, faust.SASLCredentials) and tls.ssl_context is not None
    assert isinstance(
        broker_credentials(plain.model_copy(update={"security_protocol": "SSL"})),
        faust.SSLCredentials,
    )
    app = batch_app(Settings(kafka=sasl), "test-credentials", lambda keys: {}, lambda *_: "")
    assert app.conf.broker_credentials.username == "popreg"
