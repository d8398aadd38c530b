"""Update bundles: one uncompressed tar, read front to back while it is uploaded.

    manifest.json   {"format": 1, "name": "evse-appliance", "version": "0.2.0", "created": "...",
                     "payload": [{"path": "wheels/evse_appliance-0.2.0-py3-none-any.whl",
                                  "sha256": "...", "size": 12345}, ...]}
    manifest.sig    64-byte Ed25519 signature over manifest.json, by a release key
    wheels/*.whl    the appliance and every dependency, for the device's platform

Manifest and signature come first, so a forged bundle is refused before its payload is written;
every payload file is then checked against its hash and size. Nothing of a refused bundle stays.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from appliance.errors import InvalidInput
from appliance.system.signing import SIGNATURE_BYTES, verify

FORMAT = 1
NAME = "evse-appliance"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_MANIFEST_BYTES = 256 * 1024
VERSION_PATTERN = re.compile(r"^[0-9][0-9A-Za-z.+_-]{0,63}$")
_PAYLOAD = re.compile(r"^wheels/[A-Za-z0-9_.+-]{1,200}\.whl$")
CHUNK = 1024 * 1024


class BundleError(InvalidInput):
    """The bundle is refused; the message says why in words a user can act on."""


@dataclass(frozen=True)
class PayloadFile:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    created: str
    payload: tuple[PayloadFile, ...]

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "name": NAME, "version": self.version, "created": self.created,
                "payload": [asdict(p) for p in self.payload]}
        return json.dumps(data, indent=1, sort_keys=True).encode() + b"\n"

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT or data.get("name") != NAME:
                raise BundleError(f"not an {NAME} bundle of format {FORMAT}")
            payload = tuple(PayloadFile(str(p["path"]), str(p["sha256"]), int(p["size"])) for p in data["payload"])
            manifest = cls(str(data["version"]), str(data.get("created", "")), payload)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleError(f"the manifest is malformed: {exc}") from exc
        manifest.check()
        return manifest

    def check(self) -> None:
        if not VERSION_PATTERN.match(self.version):
            raise BundleError(f"bad version {self.version!r}")
        paths = [p.path for p in self.payload]
        if len(set(paths)) != len(paths) or not all(_PAYLOAD.match(p) for p in paths):
            raise BundleError("the payload may only hold wheels/<name>.whl, each once")
        if not any(Path(p).name.startswith(f"evse_appliance-{self.version}-") for p in paths):
            raise BundleError(f"the payload lacks the evse_appliance {self.version} wheel")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def create_bundle(wheels: list[Path], version: str, key: Ed25519PrivateKey, out: Path) -> Manifest:
    """Sign and write a bundle of `wheels` (the appliance's own wheel among them)."""
    payload = tuple(PayloadFile(f"wheels/{w.name}", _sha256(w), w.stat().st_size) for w in sorted(wheels))
    manifest = Manifest(version, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), payload)
    manifest.check()
    raw = manifest.to_bytes()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((MANIFEST, raw), (SIGNATURE, key.sign(raw))):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
        for wheel, entry in zip(sorted(wheels), payload, strict=True):
            tar.add(wheel, arcname=entry.path, recursive=False)
    return manifest


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo | None, name: str, limit: int) -> bytes:
    if member is None:
        raise BundleError("the bundle is incomplete (was the upload cut short?)")
    if member.name != name or not member.isfile() or member.size > limit:
        raise BundleError(f"expected {name} at this place in the bundle, found {member.name!r}")
    f = tar.extractfile(member)
    data = f.read() if f is not None else b""
    if len(data) != member.size:
        raise BundleError("the bundle is incomplete (was the upload cut short?)")
    return data


class Readable(Protocol):
    """What a bundle is read from: a file, an upload, a tar member; read to the end once."""

    def read(self, size: int = -1, /) -> bytes: ...


def _check_copy(src: Readable, entry: PayloadFile, out: BinaryIO | None = None) -> None:
    """Read `src` to its end (copying it to `out`) and compare it with its signed size and hash."""
    digest, size = hashlib.sha256(), 0
    while block := src.read(CHUNK):
        digest.update(block)
        size += len(block)
        if out is not None:
            out.write(block)
    if size != entry.size:
        raise BundleError(f"{entry.path} is incomplete ({size} of {entry.size} bytes; was the upload cut short?)")
    if digest.hexdigest() != entry.sha256:
        raise BundleError(f"{entry.path} does not match its signed hash")


def unpack_bundle(stream: Readable, dest: Path, keys: list[Ed25519PublicKey],
                  progress: Callable[[int], None] | None = None) -> Manifest:
    """Check and unpack a bundle read from `stream` into the new directory `dest`.

    On any error `dest` is removed and BundleError raised."""
    dest.mkdir(parents=True)
    try:
        return _unpack(stream, dest, keys, progress)
    except (tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise BundleError(f"the bundle is incomplete or not a bundle (was the upload cut short?): {exc}") from exc
    except BundleError:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _unpack(stream: Readable, dest: Path, keys: list[Ed25519PublicKey],
            progress: Callable[[int], None] | None) -> Manifest:
    # Stream mode only reads; the stub asks every fileobj for a whole file's methods.
    with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[call-overload]
        members = iter(tar)
        raw = _read_member(tar, next(members, None), MANIFEST, MAX_MANIFEST_BYTES)
        sig = _read_member(tar, next(members, None), SIGNATURE, SIGNATURE_BYTES)
        if not verify(keys, raw, sig):
            raise BundleError("the signature does not match a trusted release key: not an official update")
        manifest = Manifest.from_bytes(raw)
        expected = {p.path: p for p in manifest.payload}
        (dest / "wheels").mkdir()
        for member in members:
            entry = expected.pop(member.name, None)
            if entry is None or not member.isfile():
                raise BundleError(f"unexpected entry {member.name!r} in the bundle")
            src = tar.extractfile(member)
            assert src is not None  # a regular file always has a reader
            with (dest / entry.path).open("wb") as out:
                _check_copy(src, entry, out)
            if progress is not None:
                progress(entry.size)
        if expected:
            raise BundleError(f"the bundle is incomplete (was the upload cut short?): missing {sorted(expected)[0]}")
    (dest / MANIFEST).write_bytes(raw)
    (dest / SIGNATURE).write_bytes(sig)
    return manifest


def verify_unpacked(directory: Path, keys: list[Ed25519PublicKey]) -> Manifest:
    """Check an unpacked bundle again (signature, then every file), as the installer must before
    trusting a directory someone else wrote."""
    raw = (directory / MANIFEST).read_bytes()
    if not verify(keys, raw, (directory / SIGNATURE).read_bytes()):
        raise BundleError("the staged update's signature does not match a trusted release key")
    manifest = Manifest.from_bytes(raw)
    present = {str(p.relative_to(directory)) for p in (directory / "wheels").iterdir()}
    if present != {p.path for p in manifest.payload}:
        raise BundleError("the staged update's files differ from its manifest")
    for entry in manifest.payload:
        with (directory / entry.path).open("rb") as f:
            _check_copy(f, entry)
    return manifest
