"""A private certificate authority for the embedded S3 store's internal ports.

SeaweedFS's master, volume, filer and admin servers listen on TCP (HTTP and gRPC) and,
without credentials, serve and accept the broker's stored batches to anyone on the
machine (docs/decisions/0003-closed-ports.md). Loopback is not a boundary between local
users, so every one of those ports is made to demand a client certificate (mutual TLS)
signed by an authority that exists only here: one leaf certificate, for server and
client use, is what the store's own parts present to each other. The authority's
private key is discarded once the leaf is signed, so nobody, popreg included, can issue
a second certificate; a lost or damaged file set is simply made anew (the store's data
does not depend on it).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 3650  # the files are regenerated whenever one is missing; no renewal to forget


@dataclass(frozen=True)
class NodeCertificate:
    """Where the authority's certificate and the leaf's certificate and key are."""

    ca: Path
    cert: Path
    key: Path

    def exists(self) -> bool:
        return all(path.exists() for path in (self.ca, self.cert, self.key))


def node_certificate(directory: Path, common_name: str) -> NodeCertificate:
    """The authority and leaf in `directory` (mode 0700, key 0600), made if any is missing."""
    files = NodeCertificate(directory / "ca.crt", directory / "node.crt", directory / "node.key")
    if files.exists():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name} authority")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    node_key = ec.generate_private_key(ec.SECP256R1())
    node_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_name)
        .public_key(node_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(
        files.key,
        node_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    _write(files.cert, node_cert.public_bytes(serialization.Encoding.PEM))
    _write(files.ca, ca_cert.public_bytes(serialization.Encoding.PEM))  # last: marks it whole
    return files


def _write(path: Path, data: bytes) -> None:
    """Owner-only from the first byte, replaced whole (a crash leaves no half file)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    tmp.replace(path)
