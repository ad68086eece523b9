"""The workers' faust app takes its fetch wait from the settings (pure: no broker)."""

from __future__ import annotations

import asyncio

import aiokafka
import pytest

from popreg.settings import ProcessorSettings, Settings
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
