"""Run the `popreg` command as an operator would, against a given data dir and ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from popreg.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    ports = settings.ports
    return {
        **os.environ,
        "POPREG_DATA_DIR": str(settings.data_dir),
        "POPREG_PORTS__BROKER": str(ports.broker),
        "POPREG_PORTS__POSTGRES": str(ports.postgres),
        "POPREG_PORTS__CLICKHOUSE_HTTP": str(ports.clickhouse_http),
        "POPREG_PORTS__SEAWEED_BASE": str(ports.seaweed_base),
        "POPREG_TOPICS__EVENTS": settings.topics.events,
    }


def popreg(
    settings: Settings, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "popreg", *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def status_json(settings: Settings) -> tuple[int, dict[str, Any]]:
    result = popreg(settings, "status", "--json")
    return result.returncode, json.loads(result.stdout)
