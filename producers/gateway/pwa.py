"""The collaborators' app: an offline-first progressive web app served under `/app/`.

Plain files in `app_static/` (HTML, CSS, JavaScript: no build step, nothing fetched
from elsewhere). The service worker (`/app/sw.js`, scope `/app/`) keeps the app shell
in the phone's cache so the app opens with no connection; every event typed is kept in
IndexedDB until the gateway has answered for it (docs/collaborator-app.md).

Caching: every file is served `no-cache` with a strong ETag, so a browser with a
connection always revalidates (a 304 when nothing changed) and never runs a stale app;
offline, the service worker's cache answers. The service worker names its cache after a
digest of all the shell's files, so a new release replaces the cache in one step.
`/app/communes.json` is made here from the GSO tables the server validates with
(`schemas.admin_units`), so the app checks commune codes against the same list.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from schemas.admin_units import REFORM_DATE, load

STATIC = Path(__file__).parent / "app_static"
PREFIX = "/app"
VERSION_MARK = "__SHELL_VERSION__"
"""Replaced in sw.js by the digest of the shell: the name of its cache."""

NOT_SERVED = {"LICENSES.md"}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none';"
        " base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def communes_json() -> bytes:
    """Every commune code the server accepts, before and after the 2025 reform; the
    current ones with their names (the app shows where a person moved)."""
    units = load()
    return json.dumps(
        {
            "reform_date": REFORM_DATE.isoformat(),
            "before": sorted(units.before),
            "after": {c.code: [c.name, c.province_code] for c in units.after.values()},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def shell_assets() -> dict[str, Asset]:
    """The app's files by their path under /app/ ('' is index.html), sw.js stamped
    with the digest of all the others."""
    assets: dict[str, Asset] = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file() and path.name not in NOT_SERVED and path.suffix in MEDIA_TYPES:
            name = path.relative_to(STATIC).as_posix()
            assets[name] = Asset(path.read_bytes(), MEDIA_TYPES[path.suffix])
    assets["communes.json"] = Asset(communes_json(), MEDIA_TYPES[".json"])
    digest = hashlib.sha256()
    for name, asset in sorted(assets.items()):
        digest.update(name.encode() + b"\0" + asset.body + b"\0")
    version = digest.hexdigest()[:16]
    worker = assets["sw.js"]
    assets["sw.js"] = Asset(
        worker.body.replace(VERSION_MARK.encode(), version.encode()), worker.media_type
    )
    assets[""] = assets["index.html"]
    return assets


def mount_pwa(app: FastAPI) -> None:
    """Serve the collaborators' app under /app/ (not in the OpenAPI document)."""
    assets = shell_assets()

    @app.get(PREFIX, include_in_schema=False)
    async def app_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @app.get(PREFIX + "/{name:path}", include_in_schema=False)
    async def app_file(name: str, request: Request) -> Response:
        asset = assets.get(name)
        if asset is None:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {**SECURITY_HEADERS, "ETag": asset.etag}
        if name == "sw.js":
            headers["Service-Worker-Allowed"] = f"{PREFIX}/"
        if request.headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)
