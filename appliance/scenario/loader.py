"""Read a scenario file; a bad one gets an error naming the line and the key."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError

from appliance.scenario.schema import Scenario


class ScenarioError(ValueError):
    pass


def load_scenario(path: Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    return parse_scenario(text, str(path))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{name}: {exc}") from exc
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = ".".join(str(x) for x in loc) or "scenario"
        line = locate(text, loc)
        where = f"line {line}, " if line else ""
        raise ScenarioError(f"{name}: {where}key {key}: {err['msg']}") from exc


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
