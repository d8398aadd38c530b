"""Scenario files and the pilot's configuration: a bad file names the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.pilot.config import ConfigError, load_pilot_config
from appliance.scenario.loader import ScenarioError, load_scenario, parse_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "scenarios"

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
        (
            ("line_limit_a = 32", 'line_limit_a = "lots"'),
            "line 2, key site.line_limit_a: Input should be a valid number",
        ),
        (('mode = "on"', 'mode = "turbo"'), "line 6, key station.0.mode: Input should be 'off', 'on'"),
        (("phases = 3", "phases = 2"), "line 12, key event.0.car.phases: Value error, phases must be 1 or 3"),
        (('do = "plug"', 'do = "fly"'), "line 11, key event.0.do: Value error, unknown action 'fly'"),
        (
            ("station = 1\ndo", "station = 7\ndo"),
            "line 10, key event.0.station: Input should be less than or equal to 2",
        ),
        (
            ("car = { max_current_a = 32, phases = 3 }\n", ""),
            "line 8, key event.0: Value error, action 'plug' needs car",
        ),
        (("[site]", "[site"), "Expected ']' at the end of a table declaration (at line 1, column 6)"),
        (
            ("id = 1", "id = 1\nphase_rotation = [1, 1, 3]"),
            "line 6, key station.0.phase_rotation: Value error, phase_rotation must be a permutation",
        ),
    ],
)
def test_bad_scenario_names_line_and_key(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(GOOD.replace(*change, 1), "cars.toml")
    assert str(err.value).startswith("cars.toml: ") and expected in str(err.value)


# A car on station 1 from 5 s to 60 s; the line numbers below count from 1 in this text.
TIMELINE = """[[event]]
at = 5.0
station = 1
do = "plug"
car = { cable_a = 32 }

[[event]]
at = 60.0
station = 1
do = "unplug"

[[event]]
at = 20.0
station = 1
do = "request"
"""


def _with(text: str, at: float, do: str, extra: str = "", station: int = 1) -> str:
    return text + f"\n[[event]]\nat = {at}\nstation = {station}\ndo = \"{do}\"\n{extra}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            TIMELINE.replace("at = 20.0", "at = 2.0"),
            "line 15, key event.2.do: Value error, 'request' at 2 s: no car is plugged into station 1 then",
        ),
        (
            TIMELINE.replace("at = 20.0", "at = 61.0"),
            "line 15, key event.2.do: Value error, 'request' at 61 s: no car is plugged into station 1 then",
        ),
        (
            _with(TIMELINE, 9.5, "plug", "car = { cable_a = 20 }\n"),
            "line 20, key event.3.do: Value error, station 1 already has a car plugged in at 9.5 s",
        ),
        (
            _with(TIMELINE, 30.0, "stop", station=2),
            "line 20, key event.3.do: Value error, 'stop' at 30 s: no car is plugged into station 2 then",
        ),
        (
            _with(TIMELINE, 4.0, "pp_open"),
            "line 20, key event.3.do: Value error, 'pp_open' at 4 s: no car is plugged into station 1 then",
        ),
        (_with(TIMELINE, 70.0, "vent"), "line 20, key event.3.do: Value error, 'vent' at 70 s"),
        (_with(TIMELINE, 70.0, "draw", "limit_a = 10\n"), "line 20, key event.3.do: Value error, 'draw' at 70 s"),
        (_with(TIMELINE, 70.0, "sleep"), "line 20, key event.3.do: Value error, 'sleep' at 70 s"),
        (
            _with(TIMELINE, 70.0, "switch_phases", "phases = 3\n"),
            "line 20, key event.3.do: Value error, 'switch_phases' at 70 s",
        ),
        (
            _with(TIMELINE, 30.0, "switch_phases"),
            "line 17, key event.3: Value error, action 'switch_phases' needs phases",
        ),
        (_with(TIMELINE, 30.0, "switch_phases", "phases = 2\n"), "line 21, key event.3.phases: Input should be 1 or 3"),
        (_with(TIMELINE, 70.0, "unplug"), "line 20, key event.3.do: Value error, 'unplug' at 70 s"),
        (
            _with(TIMELINE, 30.0, "adc_glitch", 'channel = "cp_high"\nvolts = 12.9\nticks = 0\n'),
            "line 23, key event.3.ticks: Input should be greater than or equal to 1",
        ),
        (
            _with(TIMELINE, 30.0, "adc_glitch", 'channel = "rail"\nvolts = 12.9\n'),
            "line 21, key event.3.channel: Input should be 'cp_high', 'cp_low' or 'pp'",
        ),
        (
            _with(TIMELINE, 30.0, "adc_glitch", 'channel = "cp_low"\n'),
            "line 17, key event.3: Value error, action 'adc_glitch' needs volts",
        ),
        (
            _with(TIMELINE, 30.0, "adc_glitch", "volts = 1.0\n"),
            "line 17, key event.3: Value error, action 'adc_glitch' needs channel",
        ),
        (
            _with(TIMELINE, 30.0, "adc_glitch", 'channel = "pp"\nvolts = nan\n'),
            "line 22, key event.3.volts: Input should be a finite number",
        ),
        (
            _with(TIMELINE, 30.0, "adc_channel_stuck"),
            "line 17, key event.3: Value error, action 'adc_channel_stuck' needs channel",
        ),
        (
            _with(TIMELINE, 30.0, "contactor_drop"),
            "line 17, key event.3: Value error, action 'contactor_drop' needs seconds",
        ),
        (
            _with(TIMELINE, 30.0, "loop_stall", "seconds = 0\n"),
            "line 21, key event.3.seconds: Input should be greater than 0",
        ),
        (
            TIMELINE + '\n[[event]]\nat = 30.0\ndo = "loop_stall"\n',
            "line 17, key event.3: Value error, action 'loop_stall' needs seconds",
        ),
        (
            TIMELINE + '\n[[event]]\nat = 30.0\ndo = "pp_open"\n',
            "line 17, key event.3: Value error, action 'pp_open' needs a station",
        ),
    ],
)
def test_impossible_or_incomplete_event_names_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "cars.toml")
    assert str(err.value).startswith("cars.toml: ") and expected in str(err.value)


def test_events_are_checked_in_time_order_not_file_order() -> None:
    """A request listed before its plug but later in time is fine; at equal times the file
    order is the order they happen in, as the player plays them."""
    later = _with(TIMELINE, 20.0, "plug", "car = { cable_a = 13 }\n", station=2)
    ok = parse_scenario(_with(later, 20.0, "request", station=2))
    assert [e.do for e in ok.event] == ["plug", "unplug", "request", "plug", "request"]
    again = _with(TIMELINE, 60.0, "plug", "car = { cable_a = 20 }\n")  # unplug then plug at 60 s
    assert parse_scenario(again).event[-1].car.cable_a == 20
    with pytest.raises(ScenarioError, match=r"line 20, key event\.3\.do: .*'request' at 20 s"):
        parse_scenario(_with(_with(TIMELINE, 20.0, "request", station=2), 20.0, "plug", "car = {}\n", station=2))


def test_signal_fault_actions_parse() -> None:
    text = TIMELINE
    for extra in ('do = "adc_glitch"\nchannel = "cp_high"\nvolts = 12.9\nticks = 3',
                  'do = "adc_glitch"\nchannel = "pp"\nvolts = 4.096',
                  'do = "adc_channel_stuck"\nchannel = "cp_low"',
                  'do = "pp_open"', 'do = "contactor_drop"\nseconds = 0.5'):
        text += f"\n[[event]]\nat = 30.0\nstation = 1\n{extra}\n"
    text += '\n[[event]]\nat = 31.0\ndo = "loop_stall"\nseconds = 0.3\n'
    events = parse_scenario(text).event[3:]
    assert [(e.do, e.channel, e.volts, e.ticks, e.seconds) for e in events] == [
        ("adc_glitch", "cp_high", 12.9, 3, None), ("adc_glitch", "pp", 4.096, 1, None),
        ("adc_channel_stuck", "cp_low", None, 1, None), ("pp_open", None, None, 1, None),
        ("contactor_drop", None, None, 1, 0.5), ("loop_stall", None, None, 1, 0.3)]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda path: path.name)
def test_example_scenarios_load(path: Path) -> None:
    assert load_scenario(path).event


def test_good_scenario_and_unreadable_file(tmp_path: Path) -> None:
    assert parse_scenario(GOOD).event[0].car.phases == 3
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_pilot_config_errors_name_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "pilot.toml"
    path.write_text("line_limit_a = 32\n[[stations]]\nid = 1\nmax_current_a = 120\n")
    with pytest.raises(
        ConfigError, match=r"line 4, stations\.0\.max_current_a: Input should be less than or equal to 80"
    ):
        load_pilot_config(path)
    path.write_text("line_limit_a = 25\nfailsafe_current_a = 10\n")
    config = load_pilot_config(path)
    assert config.line_limit_a == 25 and config.failsafe_for(25) == 10
    with pytest.raises(ConfigError, match="cannot read"):
        load_pilot_config(tmp_path / "nope.toml")
