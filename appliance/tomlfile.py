"""TOML files checked by a pydantic model, with errors that name the line and the key.

Scenario files, the pilot's configuration and the first-boot file all come from people
editing text; each error points at the line to fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], text: str, name: str, error: type[ValueError], *, whole: str = "file",
                toml_prefix: str = "", key_prefix: str = "",
                describe: Callable[[dict[str, Any]], str] = lambda err: str(err["msg"])) -> M:
    """`model` from TOML `text`; raises `error("<name>: line N, <key>: <what is wrong>")`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{name}: {toml_prefix}{exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        line = locate(text, loc)
        where = f"line {line}, " if line else ""
        key = ".".join(str(x) for x in loc) or whole
        raise error(f"{name}: {where}{key_prefix}{key}: {describe(dict(err))}") from exc


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")


def locate(text: str, loc: tuple[object, ...]) -> int | None:
    """Best line number (1-based) for a validation error at `loc` (table, [index], key...)."""
    if not loc:
        return None
    table, rest = str(loc[0]), list(loc[1:])
    index = rest.pop(0) if rest and isinstance(rest[0], int) else None
    keys = [str(k) for k in rest if not isinstance(k, int)]
    seen = -1
    start: int | None = None
    end = None
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        m = _HEADER.match(line)
        if m:
            if start is not None and end is None:
                end = n
            if m.group(2) == table:
                seen += 1
                if index is None or seen == index:
                    start, end = n, None
    if start is None:
        # a top-level key like `site = {...}` or an unknown table
        for n, line in enumerate(lines, 1):
            if re.match(rf"^\s*{re.escape(table)}\s*=", line):
                return n
        return None
    section = lines[start:end - 1 if end else None]
    found = start
    for key in keys:
        for n, line in enumerate(section, start + 1):
            if re.match(rf"^\s*{re.escape(key)}\s*=", line) or re.search(rf"[{{,]\s*{re.escape(key)}\s*=", line):
                found = n
                break
    return found
