"""The one-time setup code for the first run: while no admin password is set, whoever sets it
from the LAN must show this code, so the first person on the network cannot claim the charger.

It is shown only where the owner looks: printed by `evse supervisor`/`evse sim` on start-up,
written into `<data>/setup-code` (0600), and by the image's first boot onto the boot partition
(evse-firstboot.txt) and the console. It is deleted when the password is set.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from appliance.system.files import write_private

FILE_NAME = "setup-code"
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a screen and typed without doubt
LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """ABCD-EFGH: easier to read out and type."""
    return f"{code[:4]}-{code[4:]}"


def normalize(given: str) -> str:
    """What the owner typed, without spaces or dashes, in capitals."""
    return "".join(c for c in given.upper() if c not in " -\t")


def read_code(data_dir: Path) -> str | None:
    """The pending code, or None (no file, or not a code this module wrote)."""
    try:
        code = normalize((data_dir / FILE_NAME).read_text(encoding="utf-8").strip())
    except (OSError, UnicodeDecodeError):
        return None
    return code if len(code) == LENGTH and all(c in ALPHABET for c in code) else None


def ensure_code(data_dir: Path, owner: tuple[int, int] | None = None) -> str:
    """The pending code, made and written (0600) if there is none yet."""
    code = read_code(data_dir)
    if code is None:
        code = new_code()
        write_private(data_dir / FILE_NAME, shown(code) + "\n", owner)
    return code


def discard_code(data_dir: Path) -> None:
    (data_dir / FILE_NAME).unlink(missing_ok=True)


def matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of what was typed with the pending code."""
    return given is not None and hmac.compare_digest(normalize(given).encode(), expected.encode())
