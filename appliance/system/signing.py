"""Ed25519 keys for update bundles: the project's public keys ship in the package, the private key
stays with whoever builds releases (`python -m appliance.system.release_tool keygen`)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Release keys this version trusts. A new key is added here one release before it signs anything,
# so devices on the previous release already accept it.
RELEASE_PUBLIC_KEYS = (
    """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAf5jOD01Bgc/EnKeoaKQpjj5awVbRInOh4YvPHGrN6j4=
-----END PUBLIC KEY-----
""",
)
SIGNATURE_BYTES = 64
# Keys this device trusts besides the release keys: root's to add (the image build's --trust-key
# puts a throw-away key here so a test image accepts a test bundle).
EXTRA_KEYS_DIR = Path("/etc/evse/update-keys")


def public_key_from_pem(pem: bytes | str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def release_keys(extra_dir: Path = EXTRA_KEYS_DIR) -> list[Ed25519PublicKey]:
    """The release keys, then every *.pub in `extra_dir` (none on a production image)."""
    extra = sorted(extra_dir.glob("*.pub")) if extra_dir.is_dir() else []
    pems: list[str | bytes] = [*RELEASE_PUBLIC_KEYS, *(p.read_bytes() for p in extra)]
    return [public_key_from_pem(pem) for pem in pems]


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_keypair(private_path: Path, passphrase: bytes | None = None) -> Ed25519PublicKey:
    """Write a new private key (0600, never overwriting one) and its public key beside it (.pub)."""
    key = Ed25519PrivateKey.generate()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    private_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # ~/.config/evse on a fresh machine
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    private_path.with_suffix(".pub").write_bytes(public_pem(key.public_key()))
    return key.public_key()


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def verify(keys: list[Ed25519PublicKey], data: bytes, signature: bytes) -> bool:
    """True when any trusted key made `signature` over `data`."""
    for key in keys:
        try:
            key.verify(signature, data)
            return True
        except InvalidSignature:
            continue
    return False
