"""The signal-fault scenario actions, played by the scenario runner and seen on the buses: what
the hardware does at which simulated time, whatever the pilot makes of it."""

from __future__ import annotations

import math

import pytest

from appliance.board import load_board
from appliance.board.scaling import Scaling
from appliance.drivers.mcp3208 import decode
from appliance.scenario.runner import Report, ScenarioRunner
from tests.scenario_helpers import charging

BOARD = load_board()
SCALING = Scaling(BOARD)
RELEASE_S = BOARD.contactor.release_ms / 1000
OPERATE_S = BOARD.contactor.operate_ms / 1000
WATCHDOG_S = BOARD.watchdog.timeout_ms / 1000
PERIOD = 0.010  # the control loop's tick


def contactor(report: Report, closed: bool, after: float) -> list[float]:
    return [e["t"] for e in report.of("contactor", 1, closed=closed) if e["t"] > after]


def conversions(runner: ScenarioRunner, channel: int, since: float) -> list[int]:
    """Counts of `channel` as they went over the SPI bus from `since` on (the bus log)."""
    out = []
    for record in runner.hat.spi.log:
        if record.cs != BOARD.adc.spi_cs or record.t < since:
            continue
        tx = record.tx
        if ((tx[0] & 1) << 2 | tx[1] >> 6) == channel:
            out.append(decode(record.rx, channel))
    return out


def test_loop_stall_drops_the_contactor_through_the_watchdog(run) -> None:
    events = charging(at=1.0) + [{"at": 20.0, "do": "loop_stall", "seconds": 0.3}]
    report, runner = run(events, until=20.25)
    assert contactor(report, True, after=0.0), "charging before the stall"
    # the tick at 20.0 is the first one stalled: the last kick was at 19.99
    (opened,) = contactor(report, False, after=19.9)
    assert opened == pytest.approx(20.0 - PERIOD + WATCHDOG_S + RELEASE_S, abs=1e-3)
    assert WATCHDOG_S <= opened - 20.0 <= WATCHDOG_S + RELEASE_S + 1e-3
    assert not runner.hat.watchdog_alive and not runner.hat.drivers().station(1).io.contactor_aux()
    assert runner.hat.spi.log[0].t < 19.9
    assert conversions(runner, BOARD.adc_channel("cp_high", 1), since=20.0 - PERIOD / 2) == []  # no tick
    runner.run(20.35)  # the bus log is a ring: read it before later ticks roll the first one out
    first_tick = min(r.t for r in runner.hat.spi.log if r.cs == BOARD.adc.spi_cs and r.t > 20.0)
    assert first_tick == pytest.approx(20.3, abs=PERIOD / 2)
    runner.run(21.5)
    assert runner.hat.watchdog_alive  # ticking again from 20.3: kicks re-arm the watchdog
    assert [s["t"] for s in report.samples] == [float(n) for n in range(1, 22)]  # sampling ran on


def test_contactor_drop_opens_at_once_and_cannot_close_before_the_supply_is_back(run) -> None:
    events = charging(at=1.0) + [{"at": 20.0, "station": 1, "do": "contactor_drop", "seconds": 0.5}]
    report, runner = run(events, until=20.3)
    (opened,) = contactor(report, False, after=19.9)
    assert opened == pytest.approx(20.0 + RELEASE_S, abs=1e-4)
    assert not runner.hat.stations[1].contacts and not runner.hat.drivers().station(1).io.contactor_aux()
    runner.run(25.0)
    assert all(t >= 20.5 + OPERATE_S - 1e-6 for t in contactor(report, True, after=20.0))


def test_adc_glitch_changes_exactly_its_conversions(run) -> None:
    glitch = {"at": 20.0, "station": 1, "do": "adc_glitch", "channel": "cp_high", "volts": 12.9, "ticks": 3}
    report, runner = run(charging(at=1.0) + [glitch], until=20.05)
    code = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pilot(12.9))
    seen = conversions(runner, BOARD.adc_channel("cp_high", 1), since=20.0)
    assert seen[:3] == [code] * 3 and code not in seen[3:]
    assert SCALING.pilot_volts_from_counts(seen[3]) < 10.0  # the car is still in C
    assert code not in conversions(runner, BOARD.adc_channel("cp_high", 2), since=20.0)


def test_adc_channel_stuck_freezes_one_channel(run) -> None:
    stuck = {"at": 20.0, "station": 2, "do": "adc_channel_stuck", "channel": "cp_low"}
    report, runner = run(charging(at=1.0) + [stuck], until=20.5)
    frozen = conversions(runner, BOARD.adc_channel("cp_low", 2), since=20.0)
    assert len(frozen) > 100 and len(set(frozen)) == 1
    assert len(set(conversions(runner, BOARD.adc_channel("cp_low", 1), since=20.0))) > 1


def test_pp_open_reads_open_while_the_car_stays_until_it_leaves(run) -> None:
    events = charging(at=1.0) + [{"at": 20.0, "station": 1, "do": "pp_open"},
                                 {"at": 25.0, "station": 1, "do": "unplug"}] + charging(at=26.0)
    report, runner = run(events, until=21.0)
    station = runner.hat.stations[1]
    assert station.car is not None and station.pp_ohms() == math.inf
    pp = conversions(runner, BOARD.adc_channel("pp", 1), since=20.0)
    assert pp and min(pp) >= 4093
    runner.run(27.0)
    assert station.pp_ohms() == 220.0  # a new plug-in, a good cable
