"""API tokens for devices: `evse_<id>_<secret>`, shown once, stored as a SHA-256 hash.

The id is public (it names the token in lists and audit entries); the secret carries 256 bits,
so a fast hash is enough: there is nothing to brute-force that a slow KDF would protect.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Literal

Scope = Literal["read", "control", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "control", "admin")  # each includes the ones before it
PREFIX = "evse"
_FORMAT = re.compile(r"^evse_([0-9a-f]{12})_([0-9a-f]{64})$")


def allows(have: Scope, need: Scope) -> bool:
    """admin may do what control may do, control what read may do."""
    return SCOPES.index(have) >= SCOPES.index(need)


@dataclass(frozen=True)
class NewToken:
    id: str
    token: str  # the only time the secret exists outside the caller's device
    hash: str


def new_token() -> NewToken:
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}_{token_id}_{secrets.token_hex(32)}"
    return NewToken(token_id, token, digest(token))


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (a token or a session cookie): what the database keeps."""
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id(token: str) -> str | None:
    """The id part of a well-formed token, else None (so junk never reaches the database)."""
    match = _FORMAT.match(token)
    return match.group(1) if match else None
