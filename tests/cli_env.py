"""Run the `popreg` command as an operator would, against a given data dir and ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from schemas.settings import Settings, env_of


def env_for(settings: Settings) -> dict[str, str]:
    return {**os.environ, **env_of(settings)}


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
