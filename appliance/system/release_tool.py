"""Release tool for update bundles: make a signing key, sign a bundle, check one.

Run with the repository's Python from its root (e.g. `.venv/bin/python -m appliance.system.release_tool`):

    python -m appliance.system.release_tool keygen ~/.config/evse/release-key.pem   (creates ~/.config/evse)
    python -m appliance.system.release_tool bundle --key ~/.config/evse/release-key.pem --wheels DIR -o evse.bundle
    python -m appliance.system.release_tool verify evse.bundle [--pubkey KEY.pub]

The private key never enters the repository or the image; put its public half into
`appliance/system/signing.py` (RELEASE_PUBLIC_KEYS) one release before it first signs.
Set EVSE_SIGNING_PASSPHRASE to encrypt (keygen) or open (bundle) the private key.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

from appliance.system.bundle import BundleError, create_bundle, unpack_bundle
from appliance.system.signing import generate_keypair, load_private_key, public_key_from_pem, release_keys

_APP_WHEEL = re.compile(r"^evse_appliance-([^-]+)-")


def _passphrase() -> bytes | None:
    value = os.environ.get("EVSE_SIGNING_PASSPHRASE")
    return value.encode() if value else None


def wheel_version(wheels: list[Path]) -> str:
    versions = {m.group(1) for w in wheels if (m := _APP_WHEEL.match(w.name))}
    if len(versions) != 1:
        raise ValueError(f"expected exactly one evse_appliance wheel, found versions {sorted(versions) or 'none'}")
    return versions.pop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m appliance.system.release_tool", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    keygen = sub.add_parser("keygen", help="new Ed25519 signing key (KEY, 0600) and KEY.pub")
    keygen.add_argument("key", type=Path)
    bundle = sub.add_parser("bundle", help="sign a bundle of every wheel in a directory")
    bundle.add_argument("--key", type=Path, required=True)
    bundle.add_argument("--wheels", type=Path, required=True, help="the appliance's wheel and all its dependencies")
    bundle.add_argument("-o", "--out", type=Path, required=True)
    check = sub.add_parser("verify", help="check a bundle's signature and contents")
    check.add_argument("bundle", type=Path)
    check.add_argument("--pubkey", type=Path, help="default: the release keys this version trusts")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "keygen":
            generate_keypair(args.key, _passphrase())
            print(f"private key: {args.key} (keep it out of the repository and the image)")
            print(f"public key:  {args.key.with_suffix('.pub')}")
        elif args.cmd == "bundle":
            wheels = sorted(args.wheels.glob("*.whl"))
            manifest = create_bundle(wheels, wheel_version(wheels), load_private_key(args.key, _passphrase()), args.out)
            print(f"{args.out}: evse-appliance {manifest.version}, {len(manifest.payload)} wheels, signed")
        else:
            keys = [public_key_from_pem(args.pubkey.read_bytes())] if args.pubkey else release_keys()
            with tempfile.TemporaryDirectory() as tmp, args.bundle.open("rb") as f:
                manifest = unpack_bundle(f, Path(tmp) / "b", keys)
            print(f"{args.bundle}: good signature, evse-appliance {manifest.version}, {len(manifest.payload)} wheels")
    except (BundleError, ValueError, OSError, TypeError) as exc:
        print(f"sign: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
