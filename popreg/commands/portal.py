"""`popreg portal`: the web portal of maps and indicators, in the foreground.

`popreg up` already runs it, supervised; this is for running it alone (another port,
a debugger). It reads ClickHouse through the analysts' read-only endpoint."""

from __future__ import annotations

from infra.portal_part import ensure_logins
from popreg.output import DataDir, console, settings_for
from portal.app import serve


def portal(data_dir: DataDir = None) -> None:
    """Serve the portal on 127.0.0.1 and the settings' port (ports.portal); log in with a
    user of the settings and the password in <data_dir>/secrets/portal-USER.password
    (USER: the login)."""
    settings = settings_for(data_dir)
    files = ensure_logins(settings)
    console.print(f"portal on {settings.portal_url}; passwords in {files[0].parent}")
    serve(settings)
