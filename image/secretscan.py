"""Secrets that must never ship in an image or a package: private keys, password hashes and the
supervisor's API tokens. Used by the image build on the finished tree and by the tests.

    python3 -m image.secretscan DIR...      exit status 1 and one line per finding
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

KEYS_AND_HASHES = (
    # a PEM private key with its body (the bare header also appears as a constant in libraries)
    re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{16}"),
    re.compile(rb"\$(1|5|6|y|2[aby])\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{8,}"),  # crypt(3) password hashes
    re.compile(rb"scrypt\$\d+\$\d+\$\d+\$"),  # appliance.system.passwords hashes
    re.compile(rb"evse_[0-9a-f]{12}_[0-9a-f]{64}"),  # the supervisor's API tokens
)


def scan(paths: Iterable[Path], patterns: Iterable[re.Pattern[bytes]] = KEYS_AND_HASHES) -> list[str]:
    """'file: pattern' for every regular file under `paths` that holds a secret."""
    found = []
    patterns = tuple(patterns)
    for top in paths:
        files = [top] if top.is_file() else (p for p in top.rglob("*") if p.is_file() and not p.is_symlink())
        for path in files:
            data = path.read_bytes()
            found += [f"{path}: {p.pattern.decode(errors='replace')}" for p in patterns if p.search(data)]
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    found = scan(Path(a) for a in args)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
