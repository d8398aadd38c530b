"""Read a scenario file; a bad one gets an error naming the line and the key."""

from __future__ import annotations

from pathlib import Path

from appliance.errors import InvalidInput
from appliance.scenario.schema import Scenario
from appliance.tomlfile import parse_model


class ScenarioError(InvalidInput):
    pass


def load_scenario(path: Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    return parse_scenario(text, str(path))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    return parse_model(Scenario, text, name, ScenarioError, whole="scenario", key_prefix="key ")
