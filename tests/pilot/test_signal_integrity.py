"""Safety integrity under real signals (SPEC §3 "Debounce", "Signal integrity", faults).

Each finding of the signal-integrity review as a scenario on simulated time, with its
timing asserted: latches survive glitches and noise, every RCD trip counts, the engine
knows when its contactor dropped, and nothing re-closes except through the full sequence.
"""

from __future__ import annotations

import pytest

from tests.scenario_helpers import active, charging, closes, opens

MIN_OFF_S = 3.0
UNPLUG_CONFIRM_S = 1.0


def log_lines(runner, station=1):
    return [(e.t, e.message) for e in runner.engine.log.since(0) if e.station == station]


def assert_full_sequence_before_each_close(report, runner, station=1):
    """Every close: a self-test passed since the previous open, and the minimum off-time kept."""
    log = log_lines(runner, station)
    for t_close in closes(report, station):
        previous_open = max([t for t in opens(report, station) if t < t_close], default=None)
        if previous_open is None:
            continue
        assert t_close - previous_open >= MIN_OFF_S - 0.02, f"re-closed {t_close - previous_open:.3f} s after opening"
        assert any(previous_open < t <= t_close and m == "RCD self-test passed" for t, m in log), \
            f"close at {t_close} without a self-test since the open at {previous_open}"


# -- 1. one bad conversion must not clear a latch -------------------------------------------------
@pytest.mark.parametrize("tethered", [False, True])
def test_one_bad_conversion_after_an_rcd_trip_clears_nothing(run, tethered: bool) -> None:
    events = charging(at=1.0) + [
        {"at": 60.0, "station": 1, "do": "rcd_fault", "kind": "dc"},
        {"at": 70.0, "station": 1, "do": "adc_glitch", "channel": "cp_high", "volts": 12.9},
    ]
    report, runner = run(events, until=120, stations=[{"id": 1, "tethered": tethered}])
    assert report.first("fault", 1, code="RCD_DC", active=True)["t"] - 60.0 <= 0.020
    assert report.first("fault", 1, code="RCD_DC", active=False) is None
    assert report.of("state", 1, to="A") == []  # the wild conversion never reached the plateau estimate
    assert not closes(report, after=60.0)
    assert "RCD_DC" in active(runner)


def test_a_burst_reading_state_a_on_a_tethered_station_keeps_the_latch(run) -> None:
    """Three ticks of CP-high at 12.9 V: a debounced A, but not a confirmed unplug."""
    events = charging(at=1.0) + [
        {"at": 60.0, "station": 1, "do": "rcd_fault", "kind": "dc"},
        {"at": 70.0, "station": 1, "do": "adc_glitch", "channel": "cp_high", "volts": 12.9, "ticks": 40},
    ]
    report, runner = run(events, until=120, stations=[{"id": 1, "tethered": True}])
    assert report.first("fault", 1, code="RCD_DC", active=False) is None
    assert not closes(report, after=60.0)


@pytest.mark.parametrize("latch", ["DiodeFault", "OverCurrent", "RCDSelfTestFailed"])
def test_other_latches_survive_a_glitch_reading_state_a(run, latch: str) -> None:
    car = {"diode": False} if latch == "DiodeFault" else {"overdraw_a": 6.0} if latch == "OverCurrent" else {}
    events = charging(at=1.0, **car) + [
        {"at": 30.0, "station": 1, "do": "adc_glitch", "channel": "cp_high", "volts": 12.9, "ticks": 12},
    ]

    def broken_rcd(runner):
        runner.hat.stations[1].rcd_test_works = latch != "RCDSelfTestFailed"

    report, runner = run(events, until=50, setup=broken_rcd, site={"line_limit_a": 20})
    raised = report.first("fault", 1, code=latch, active=True)
    assert raised is not None and raised["t"] < 30.0
    assert report.first("fault", 1, code=latch, active=False) is None
    assert latch in active(runner)
    assert not closes(report, after=raised["t"])


def test_a_real_unplug_releases_the_latch_after_the_confirmation(run) -> None:
    events = charging(at=1.0) + [{"at": 60.0, "station": 1, "do": "rcd_fault", "kind": "dc"},
                                 {"at": 80.0, "station": 1, "do": "unplug"}] + charging(at=85.0)
    report, runner = run(events, until=95)
    cleared = report.first("fault", 1, code="RCD_DC", active=False)
    assert cleared["t"] - 80.0 == pytest.approx(UNPLUG_CONFIRM_S, abs=0.05) and cleared["message"] == "car unplugged"
    assert closes(report, after=85.0) and closes(report, after=85.0)[0] - 86.0 <= 3.0


# -- 2. noise ----------------------------------------------------------------------------------------
def test_two_cars_charge_15_min_under_half_a_volt_of_noise_without_a_false_event(run) -> None:
    events = charging(1, at=1.0, battery_kwh=200) + charging(2, at=2.0, battery_kwh=200)
    report, _ = run(events, until=15 * 60 + 10, noise_v=0.5, seed=3)
    for sid in (1, 2):
        states = [(e["from"], e["to"]) for e in report.of("state", sid)]
        assert states == [("A", "B"), ("B", "C")], f"station {sid}: {states}"
        assert report.of("fault", sid) == []
        assert len(closes(report, sid)) == 1 and opens(report, sid, after=1.0) == []


def test_an_rcd_trip_under_noise_is_not_reclosed_within_15_min(run) -> None:
    events = charging(at=1.0) + [{"at": 60.0, "station": 1, "do": "rcd_fault", "kind": "dc"}]
    report, _ = run(events, until=60 + 900 + 10, noise_v=0.5, seed=5)
    # the car opens S2 once the PWM is gone and closes it when charging is offered again at the retry
    assert [e["to"] for e in report.of("state", 1)] == ["B", "C", "B", "C"]
    assert [e["t"] > 960.0 for e in report.of("state", 1)] == [False, False, False, True]
    reclose = closes(report, after=60.0)
    assert reclose and reclose[0] - 60.0 >= 900.0
    assert report.first("fault", 1, code="RCD_DC", active=False)["message"] == "automatic retry"


# -- 3. every RCD trip counts -------------------------------------------------------------------------
def test_a_trip_while_latched_is_recorded_restarts_the_wait_and_counts(run) -> None:
    events = charging(at=1.0) + [{"at": t, "station": 1, "do": "rcd_fault", "kind": "dc"} for t in (60.0, 300.0)]
    report, runner = run(events, until=1260)
    trips = report.of("fault", 1, code="RCD_DC", active=True)
    assert [round(e["t"], 1) for e in trips] == [60.0, 300.0]
    assert "trip 2" in trips[1]["message"]
    assert any("trip 2" in m for _, m in log_lines(runner))
    cleared = report.first("fault", 1, code="RCD_DC", active=False)
    assert cleared["t"] - 300.0 == pytest.approx(900.0, abs=0.05)  # the wait restarted at the second trip
    assert not closes(report, after=60.0) or closes(report, after=60.0)[0] > 1200.0


def test_trips_while_latched_count_toward_the_three_retries(run) -> None:
    events = charging(at=1.0) + [{"at": t, "station": 1, "do": "rcd_fault", "kind": "dc"} for t in (60, 120, 180, 240)]
    report, runner = run(events, until=240 + 900 + 60)
    assert len(report.of("fault", 1, code="RCD_DC", active=True)) == 4
    assert report.first("fault", 1, code="RCD_DC", active=False) is None  # the fourth trip latched until unplug
    assert not closes(report, after=60.0)


def test_an_ac_trip_while_dc_is_latched_is_raised_under_its_own_name(run) -> None:
    events = charging(at=1.0) + [{"at": 60.0, "station": 1, "do": "rcd_fault", "kind": "dc"},
                                 {"at": 100.0, "station": 1, "do": "rcd_fault", "kind": "ac"}]
    report, runner = run(events, until=110)
    ac = report.first("fault", 1, code="RCD_AC", active=True)
    assert ac is not None and ac["t"] - 100.0 <= 0.020
    assert {"RCD_DC", "RCD_AC"} <= active(runner)


# -- 4. the engine knows when its contactor dropped ----------------------------------------------------
def test_after_a_loop_stall_the_contactor_recloses_only_through_the_full_sequence(run) -> None:
    events = charging(at=1.0) + [{"at": 30.0, "do": "loop_stall", "seconds": 0.3}]
    report, runner = run(events, until=60)
    dropped = opens(report, after=29.9)
    assert dropped and dropped[0] - 30.0 == pytest.approx(0.110, abs=0.011)  # watchdog 100 ms + release 10 ms
    fault = report.first("fault", 1, code="ContactorFault", active=True)
    assert fault is not None and 30.3 <= fault["t"] <= 30.32 and "stalled" in fault["message"]
    reclose = closes(report, after=30.0)
    assert reclose and reclose[0] - dropped[0] >= MIN_OFF_S
    assert_full_sequence_before_each_close(report, runner)


def test_a_contactor_that_drops_under_load_is_a_fault_and_stays_open(run) -> None:
    events = charging(at=1.0) + [{"at": 30.0, "station": 1, "do": "contactor_drop", "seconds": 0.5}]
    report, runner = run(events, until=60)
    fault = report.first("fault", 1, code="ContactorFault", active=True)
    assert fault is not None and fault["t"] - 30.0 <= 0.05 and "auxiliary contact" in fault["message"]
    # the coil supply came back at 30.5 with the drive off: the contacts stay open until the sequence closes them
    reclose = closes(report, after=30.0)
    assert reclose and reclose[0] > 30.5 + MIN_OFF_S
    assert_full_sequence_before_each_close(report, runner)


def test_forced_safe_outputs_are_known_to_the_engine(run) -> None:
    report, runner = run(charging(at=1.0), until=30)
    runner.controller.safe_state(why="control tick failed: RuntimeError('bus')")
    runner.run(60)
    assert opens(report, after=29.9)[0] <= 30.02
    fault = report.first("fault", 1, code="ContactorFault", active=True)
    assert fault is not None and "control tick failed" in fault["message"]
    reclose = closes(report, after=29.9)
    assert reclose and reclose[0] - 30.0 >= MIN_OFF_S
    assert_full_sequence_before_each_close(report, runner)


def test_a_failed_pilot_write_opens_and_the_engine_knows(run) -> None:
    report, runner = run(charging(at=1.0), until=30)
    runner.hat.pigpio.stop()  # pigpiod gone: every PWM write fails
    runner.service.handle({"cmd": "set", "station": 1, "current_a": 16, "allowed": True})
    runner.run(30.5)
    runner.hat.pigpio.connected = True
    runner.run(60)
    assert opens(report, after=29.9)
    assert report.first("fault", 1, code="PilotFault", active=True) is not None
    assert report.first("fault", 1, code="ContactorFault", active=True) is not None
    assert_full_sequence_before_each_close(report, runner)


# -- 5. a stuck CP-high channel ------------------------------------------------------------------------
def test_a_stuck_cp_high_channel_is_an_adc_fault_within_1_s(run) -> None:
    events = charging(at=1.0) + [{"at": 30.0, "station": 1, "do": "adc_channel_stuck", "channel": "cp_high"},
                                 {"at": 31.0, "station": 1, "do": "unplug"}]
    report, runner = run(events, until=40, stations=[{"id": 1, "tethered": True}])
    fault = report.first("fault", 1, code="ADCFault", active=True)
    assert fault is not None and 30.0 < fault["t"] <= 31.0 and "CP-high" in fault["message"]
    assert opens(report, after=30.0)[0] - fault["t"] <= 0.03
    assert report.first("fault", 2, code="ADCFault") is None  # the other station's channels are fine


# -- 7. a line cut keeps one station ---------------------------------------------------------------------
@pytest.mark.parametrize("supervisor", ["up", "down"])
def test_a_line_cut_that_leaves_room_for_one_keeps_one_charging(run, supervisor: str) -> None:
    events = charging(1, at=1.0) + charging(2, at=3.0) + [{"at": 60.0, "do": "set_limit", "line_limit_a": 10}]
    if supervisor == "down":
        events.append({"at": 40.0, "do": "supervisor_kill", "seconds": 100})
    report, runner = run(events, until=90)
    assert report.samples[58]["stations"]["1"]["offered_a"] == pytest.approx(16.0)
    for s in report.samples[60:]:
        offered = sorted(s["stations"][k]["offered_a"] for k in ("1", "2"))
        assert offered[0] == 0.0 and 6.0 <= offered[1] <= 10.0, s
    kept = [sid for sid in (1, 2) if runner.engine.stations[sid].offered_a > 0]
    assert len(kept) == 1 and runner.hat.stations[kept[0]].contacts
    duty_changes = [e for e in report.of("duty") if e["t"] >= 60.0]
    last = {1: 16.0, 2: 16.0}
    for e in duty_changes:
        last[e["station"]] = e["offered_a"] if e["duty_pct"] not in (0.0, 100.0) else 0.0
        assert max(last.values()) >= 6.0, f"both paused at {e['t']}"


# -- 9. supervisor lost: an arriving car charges within the failsafe budget --------------------------------
def test_with_the_supervisor_lost_a_new_car_charges_at_the_failsafe_current(run) -> None:
    events = [{"at": 1.0, "do": "supervisor_kill", "seconds": 200}] + charging(1, at=20.0) + charging(2, at=40.0)
    report, runner = run(events, until=60)
    for sid, request in ((1, 21.0), (2, 41.0)):
        duty = report.first("duty", sid, after=request - 1.0)
        assert duty is not None and duty["offered_a"] == pytest.approx(16.0, abs=0.05)
        close = closes(report, sid)
        assert close and close[0] - request <= 3.0
    assert all(max(s["line_a"]) <= 32.0 + 0.01 for s in report.samples)


def test_failsafe_currents_together_stay_within_the_line(run) -> None:
    events = [{"at": 1.0, "do": "supervisor_kill", "seconds": 200}] + charging(1, at=20.0) + charging(2, at=40.0)
    report, runner = run(events, until=60, site={"line_limit_a": 20})
    # half of 20 A is 10 A for each; both fit
    assert report.samples[-1]["stations"]["1"]["offered_a"] == pytest.approx(10.0)
    assert report.samples[-1]["stations"]["2"]["offered_a"] == pytest.approx(10.0)
    runner.engine.config.failsafe_current_a = 16.0
    runner.run(80)
    offered = sorted(report.samples[-1]["stations"][k]["offered_a"] for k in ("1", "2"))
    assert sum(offered) <= 20.0 and offered[1] == pytest.approx(16.0) and offered[0] == 0.0


# -- 10. minimum off-time -------------------------------------------------------------------------------------
def test_a_car_flapping_s2_gets_no_more_closes_than_the_minimum_off_time_allows(run) -> None:
    events = charging(at=1.0)
    t = 20.0
    while t < 25.0:  # S2 opens and closes every 120 ms
        events += [
            {"at": round(t, 3), "station": 1, "do": "stop"},
            {"at": round(t + 0.12, 3), "station": 1, "do": "request"},
        ]
        t += 0.24
    report, runner = run(events, until=30)
    in_window = closes(report, after=19.9)
    assert len(in_window) <= 2
    assert_full_sequence_before_each_close(report, runner)


def test_a_30_ms_bus_error_under_load_does_not_reclose_at_once(run) -> None:
    events = charging(at=1.0) + [{"at": 20.0, "do": "spi_error", "seconds": 0.03}]
    report, runner = run(events, until=30)
    for opened in opens(report, after=19.9):
        later = closes(report, after=opened)
        assert not later or later[0] - opened >= MIN_OFF_S
    assert_full_sequence_before_each_close(report, runner)


# -- 11. a real trip during the self-test ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["dc", "ac"])
def test_a_real_trip_during_the_self_test_is_latched_within_20_ms_under_its_own_name(run, kind: str) -> None:
    report, runner = run([{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}], until=10)
    assert runner.service.handle({"cmd": "self_test", "station": 1})["ok"]
    runner.hat.stations[1].rcd_trip(10.0, kind)
    runner.run(11)
    code = "RCD_DC" if kind == "dc" else "RCD_AC"
    fault = report.first("fault", 1, code=code, active=True)
    assert fault is not None and fault["t"] - 10.0 <= 0.020
    assert report.first("fault", 1, code="RCDSelfTestFailed") is None


def test_a_trip_during_the_self_test_before_a_close_blocks_the_close(run) -> None:
    probe, probe_runner = run(charging(at=1.0), until=5)
    start = next(t for t, m in log_lines(probe_runner) if m.startswith("car ready: RCD self-test"))
    events = charging(at=1.0) + [{"at": round(start + 0.005, 4), "station": 1, "do": "rcd_fault", "kind": "dc"}]
    report, runner = run(events, until=10)
    fault = report.first("fault", 1, code="RCD_DC", active=True)
    assert fault is not None and fault["t"] - (start + 0.005) <= 0.020
    assert report.first("fault", 1, code="RCDSelfTestFailed") is None
    assert not closes(report)


# -- 12. ventilation -------------------------------------------------------------------------------------------
def test_ventilation_fault_stays_latched_while_the_car_asks_for_it(run) -> None:
    events = [{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}, {"at": 1.5, "station": 1, "do": "vent"},
              {"at": 2.0, "station": 1, "do": "request"}]
    report, runner = run(events, until=60)
    raised = report.of("fault", 1, code="VentilationNotAvailable")
    assert len(raised) == 1 and raised[0]["active"]
    pwm = [e for e in report.of("duty", 1) if e["t"] > raised[0]["t"] and e["duty_pct"] not in (0.0, 100.0)]
    assert pwm == []  # charging is not offered again
    assert not closes(report)
    runner.hat.stations[1].unplug(60.0)
    runner.run(63)
    assert report.first("fault", 1, code="VentilationNotAvailable", active=False)["message"] == "car unplugged"
