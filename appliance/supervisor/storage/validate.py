"""Input checks at the storage boundary: a wrong type becomes a ValueError naming the field,
before anything reaches SQLite (which would happily store a string in a REAL column)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from appliance.errors import InvalidInput

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


def number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise InvalidInput(f"{name} must be finite, not {value}")
    return float(value)


def optional_number(name: str, value: Any) -> float | None:
    return None if value is None else number(name, value)


def non_negative(name: str, value: Any) -> float:
    x = number(name, value)
    if x < 0:
        raise InvalidInput(f"{name} must be >= 0, not {x}")
    return x


def timestamp(name: str, value: Any) -> float:
    """Epoch seconds: finite and not before 1970 (a negative time is always a bug upstream)."""
    return non_negative(name, value)


def optional_timestamp(name: str, value: Any) -> float | None:
    return None if value is None else timestamp(name, value)


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be an integer, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{name} must be >= {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{name} must be <= {maximum}, not {value}")
    return value


def station(value: Any) -> int:
    return integer("station", value, minimum=1, maximum=99)


def optional_station(value: Any) -> int | None:
    return None if value is None else station(value)


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{name} must be true or false, not {type(value).__name__}")
    return value


def text(name: str, value: Any, max_length: int = 1000) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidInput(f"{name} must not be empty")
    if len(value) > max_length:
        raise InvalidInput(f"{name} must have at most {max_length} characters, not {len(value)}")
    return value


def optional_text(name: str, value: Any, max_length: int = 1000) -> str | None:
    return None if value is None else text(name, value, max_length)


def identifier(name: str, value: Any) -> str:
    """Short lower-case names (modes, event kinds, setting keys): safe to show, index and compare."""
    checked = text(name, value, 64)
    if not _IDENTIFIER.match(checked):
        raise InvalidInput(f"{name} must be lower-case letters, digits, '_' or '.', starting with a letter: {value!r}")
    return checked


def choice(name: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        raise InvalidInput(f"{name} must be one of {', '.join(options)}, not {value!r}")
    return options[options.index(value)]


def json_text(name: str, value: Any) -> str:
    """Serialise to strict JSON (no NaN, no objects JSON cannot hold)."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{name} must be JSON-serialisable: {exc}") from None


def optional_json_text(name: str, value: Any) -> str | None:
    return None if value is None else json_text(name, value)


def time_range(start: Any, end: Any) -> tuple[float, float]:
    s, e = timestamp("start", start), timestamp("end", end)
    if e <= s:
        raise InvalidInput(f"end ({e}) must be after start ({s})")
    return s, e


def page(limit: Any, offset: Any) -> tuple[int, int]:
    return integer("limit", limit, minimum=1, maximum=10_000), integer("offset", offset, minimum=0)
