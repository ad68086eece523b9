"""The `portal` part: the web portal's server, kept running by a supervisor of its own.

infra does not import the portal (it sits above infra): the supervisor runs it as
`python -m portal`. The portal's logins are generated here, with the stack's other
credentials, so that `popreg up` can say where they are before anyone opens a page.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from infra import procs, secrets, supervisor
from infra.part import Part
from schemas.settings import Settings

GROUP = "portal"


def ensure_logins(settings: Settings) -> list[Path]:
    """Each portal user's password file (made once, mode 0600), and the session key's."""
    data_dir = settings.resolved_data_dir
    secrets.get_or_create(data_dir, "portal-session.key")
    files = []
    for user in settings.portal.users:
        path = settings.portal_password_file(user)
        secrets.get_or_create(data_dir, path.name)
        files.append(path)
    return files


class Portal(Part):
    name = "portal"

    @property
    def embedded(self) -> bool:
        return True  # popreg's own server, whichever servers the data comes from

    @property
    def address(self) -> str:
        return self.settings.portal_url

    def ports(self) -> dict[int, str]:
        return {self.settings.ports.portal: "web portal"}

    def require_binaries(self) -> None:
        """The portal is a module of this package: nothing to find."""

    def launch(self) -> procs.PidRecord:
        """Like the processors: the exact settings go through a private file (0600)."""
        ensure_logins(self.settings)
        path = supervisor.settings_file(self.data_dir, GROUP)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(self.settings.model_dump_json())
        argv = [sys.executable, "-m", "infra.supervisor", "--data-dir", str(self.data_dir)]
        argv += ["--group", GROUP, supervisor.PORTAL]
        return procs.spawn(self.data_dir, self.name, argv, self.address)

    def check(self) -> str:
        """An HTTP round trip to the portal, which itself asks ClickHouse (as the analyst)."""
        try:
            with urllib.request.urlopen(f"{self.address}/healthz", timeout=5) as answer:
                health = json.load(answer)
        except urllib.error.HTTPError as error:
            raise procs.StackError(f"the portal answered {error.code}: {error.read()!r}") from None
        worker = supervisor.read_status(self.data_dir, GROUP).get(supervisor.PORTAL, {})
        restarts = worker.get("restarts", 0)
        return f"HTTP ok, {health.get('clickhouse', '?')}; {restarts} restarts; logins: " + str(
            self.settings.resolved_data_dir / "secrets" / "portal-<user>.password"
        )
