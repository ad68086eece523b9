"""The ingest gateway served by uvicorn in a thread, on the test stack, for tests that
speak HTTP to it (tests/test_gateway.py, tests/test_collaborators.py and the app's)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from infra.ports import free_port
from producers.gateway import create_app
from schemas.settings import GATEWAY_LOGIN, Settings
from tests.conftest import StackUnderTest


def gateway_settings(stack: StackUnderTest, data_dir: Path, **changes: Any) -> Settings:
    """The stack's broker, topics and registry, with the gateway's own token file,
    roster, read log and store (and a copy of the password of the registry login)."""
    password = stack.settings.login_password_file(GATEWAY_LOGIN)
    if password.exists():
        mine = data_dir / "secrets" / password.name
        mine.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(password, mine)
    return stack.settings.model_copy(update={"data_dir": data_dir, **changes})


@contextmanager
def running(settings: Settings, **options: Any) -> Iterator[str]:
    """Serve `create_app(settings, **options)` on a free loopback port; yield its URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, **options), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"gateway-{port}", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(60)
        assert not thread.is_alive(), "the gateway did not stop"


def wait_until_healthy(url: str, thread: threading.Thread, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert thread.is_alive(), "the gateway stopped while starting"
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url}/healthz did not answer in {timeout_s} s"
        time.sleep(0.05)


def client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(base_url=url, headers=headers, timeout=60.0)
