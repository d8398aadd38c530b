"""Names people give things (stations, tokens): shown in the UI, the audit log and CSV exports,
so they must not carry characters that hide or reorder text. NUL and other control characters
cut or break lines in logs; bidi controls (U+202E and friends) make "exe.txt" read "txt.exe"."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import BeforeValidator

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})  # control characters, line and paragraph separators


def plain_name(value: Any) -> Any:
    """`value` unchanged, or ValueError naming the first control character (as U+XXXX). Runs
    before the field's own checks (a token name's pattern), so the message says what is wrong;
    a value that is no string is left to those checks."""
    for c in value if isinstance(value, str) else "":
        if c in BIDI_CONTROLS or unicodedata.category(c) in _REFUSED_CATEGORIES:
            raise ValueError(f"names must not contain control characters (found U+{ord(c):04X})")
    return value


Name = Annotated[str, BeforeValidator(plain_name)]
