"""The charger's own TLS certificate: self-signed, made once per device (an ECDSA P-256 key,
kept 0600 in the data directory), valid for its host names and localhost. Nobody can vouch for
it, so the owner checks its SHA-256 fingerprint, shown on the System page and in
evse-firstboot.txt, against what the browser shows the first time."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.system.files import write_private

CERT_NAME = "tls-cert.pem"
KEY_NAME = "tls-key.pem"
VALID_DAYS = 3650  # pinned by fingerprint, not by a CA: a short life would only make the owner check it again


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the DER certificate, as browsers show it: "AB:CD:..."


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def ensure_certificate(data_dir: Path, hostname: str, owner: tuple[int, int] | None = None) -> Certificate:
    """The device's certificate, made on first use (a broken pair is made anew)."""
    cert_path, key_path = data_dir / CERT_NAME, data_dir / KEY_NAME
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if cert.public_key() != key.public_key():
            raise ValueError("the certificate is not the key's")
    except (OSError, ValueError, TypeError):
        cert = _make(cert_path, key_path, hostname, owner)
    return Certificate(cert_path, key_path, fingerprint(cert.public_bytes(serialization.Encoding.DER)))


def _make(cert_path: Path, key_path: Path, hostname: str, owner: tuple[int, int] | None) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    short = hostname.split(".")[0].lower() or "evse"
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dict.fromkeys((short, f"{short}.local", "localhost"))]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{short}.local"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EVSE charger")])
    now = datetime.datetime.now(datetime.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    write_private(key_path, pem_key.decode(), owner)
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM).decode(), owner)
    return cert


def server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certificate.cert, certificate.key)
    return context
