"""Scenario files and the pilot's configuration: a bad file names the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.pilot.config import ConfigError, load_pilot_config
from appliance.scenario.loader import ScenarioError, load_scenario, parse_scenario

GOOD = """[site]
line_limit_a = 32

[[station]]
id = 1
mode = "on"

[[event]]
at = 5.0
station = 1
do = "plug"
car = { max_current_a = 32, phases = 3 }
"""


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("line_limit_a = 32", 'line_limit_a = "lots"'), "line 2, key site.line_limit_a: Input should be a valid number"),
        (('mode = "on"', 'mode = "turbo"'), "line 6, key station.0.mode: Input should be 'off', 'on'"),
        (("phases = 3", "phases = 2"), "line 12, key event.0.car.phases: Value error, phases must be 1 or 3"),
        (('do = "plug"', 'do = "fly"'), "line 11, key event.0.do: Value error, unknown action 'fly'"),
        (("station = 1\ndo", "station = 7\ndo"), "line 10, key event.0.station: Input should be less than or equal to 2"),
        (("car = { max_current_a = 32, phases = 3 }\n", ""), "line 8, key event.0: Value error, action 'plug' needs car"),
        (("[site]", "[site"), "Expected ']' at the end of a table declaration (at line 1, column 6)"),
        (("id = 1", "id = 1\nphase_rotation = [1, 1, 3]"), "line 6, key station.0.phase_rotation: Value error, phase_rotation must be a permutation"),
    ],
)
def test_bad_scenario_names_line_and_key(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(GOOD.replace(*change, 1), "cars.toml")
    assert str(err.value).startswith("cars.toml: ") and expected in str(err.value)


def test_good_scenario_and_unreadable_file(tmp_path: Path) -> None:
    assert parse_scenario(GOOD).event[0].car.phases == 3
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_pilot_config_errors_name_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "pilot.toml"
    path.write_text("line_limit_a = 32\n[[stations]]\nid = 1\nmax_current_a = 120\n")
    with pytest.raises(ConfigError, match=r"line 4, stations\.0\.max_current_a: Input should be less than or equal to 80"):
        load_pilot_config(path)
    path.write_text("line_limit_a = 25\nfailsafe_current_a = 10\n")
    config = load_pilot_config(path)
    assert config.line_limit_a == 25 and config.failsafe_for(25) == 10
    with pytest.raises(ConfigError, match="cannot read"):
        load_pilot_config(tmp_path / "nope.toml")
