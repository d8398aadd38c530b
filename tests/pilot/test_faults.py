"""SPEC §3 faults, each in a scenario on simulated time with its timing asserted."""

from __future__ import annotations

import pytest

from tests.scenario_helpers import active, charging, closes, opens

RCD_RETRY_S = 900.0
UNPLUG_CONFIRM_S = 1.0


@pytest.mark.parametrize("kind", ["dc", "ac"])
def test_rcd_trip_opens_in_hardware_and_is_latched_within_20_ms(run, kind: str) -> None:
    events = charging(at=1.0) + [{"at": 20.0, "station": 1, "do": "rcd_fault", "kind": kind}]
    report, runner = run(events, until=25)
    code = "RCD_DC" if kind == "dc" else "RCD_AC"
    fault = report.first("fault", 1, code=code, active=True)
    assert fault is not None and fault["t"] - 20.0 <= 0.020
    # the hardware AND drops the coil with no software in the path: contact release time only
    assert opens(report, after=19.9)[0] - 20.0 == pytest.approx(0.010, abs=0.0015)
    assert code in active(runner) and runner.engine.stations[1].pilot.value in ("F", "X1")


def test_rcd_trip_retries_after_15_min_three_times_then_latches_until_unplug(run) -> None:
    trips = [20.0 + k * (RCD_RETRY_S + 60) for k in range(4)]
    events = charging(at=1.0) + [{"at": t, "station": 1, "do": "rcd_fault", "kind": "dc"} for t in trips]
    events.append({"at": trips[-1] + RCD_RETRY_S + 100, "station": 1, "do": "unplug"})
    events += charging(at=trips[-1] + RCD_RETRY_S + 110)
    report, runner = run(events, until=trips[-1] + RCD_RETRY_S + 130)
    cleared = [e["t"] for e in report.of("fault", 1, code="RCD_DC", active=False)]
    # three automatic retries, 15 min after each of the first three trips
    for trip, clear in zip(trips[:3], cleared[:3], strict=False):
        assert clear - trip == pytest.approx(RCD_RETRY_S, abs=0.02)
    for trip in trips[:3]:
        assert any(RCD_RETRY_S < t - trip < RCD_RETRY_S + 3 for t in closes(report)), "no reclose after a retry"
    # the fourth trip latches: nothing closes until the car is unplugged
    unplug = trips[-1] + RCD_RETRY_S + 100
    assert not [t for t in closes(report) if trips[-1] < t < unplug]
    assert cleared[3] == pytest.approx(unplug + UNPLUG_CONFIRM_S, abs=0.05)  # state A held 1 s, cable gone
    assert closes(report, after=unplug), "a new plug-in charges again"


def test_no_diode_means_diode_fault_and_no_close(run) -> None:
    report, runner = run(charging(at=1.0, diode=False), until=20)
    fault = report.first("fault", 1, code="DiodeFault", active=True)
    assert fault is not None and fault["t"] < 2.5
    assert not closes(report)
    assert "DiodeFault" in active(runner)
    f = [e for e in report.of("duty", 1) if e["duty_pct"] == 0.0]
    assert f and f[0]["t"] - fault["t"] < 0.02  # pilot F


def test_failed_rcd_self_test_never_closes(run) -> None:
    def broken_rcd(runner):
        runner.hat.stations[1].rcd_test_works = False

    report, runner = run(charging(at=1.0), until=10, setup=broken_rcd)
    assert report.first("fault", 1, code="RCDSelfTestFailed", active=True) is not None
    assert not closes(report)


def test_every_close_follows_a_passed_self_test(run) -> None:
    events = charging(at=1.0) + [{"at": 10, "station": 1, "do": "stop"}, {"at": 12, "station": 1, "do": "request"},
                                 {"at": 20, "station": 1, "do": "stop"}, {"at": 22, "station": 1, "do": "request"}]
    report, runner = run(events, until=30)
    log = [e.message for e in runner.engine.log.since(0) if e.station == 1]
    closes_in_log = [i for i, m in enumerate(log) if m.startswith("contactor closed")]
    passes = [i for i, m in enumerate(log) if m == "RCD self-test passed"]
    assert len(closes_in_log) == 3 == len(closes(report))
    for i, c in enumerate(closes_in_log):
        previous_close = closes_in_log[i - 1] if i else -1
        assert any(previous_close < p < c for p in passes)


def test_welded_contactor_latches_and_the_station_stays_off(run) -> None:
    events = charging(at=1.0) + [
        {"at": 10.0, "station": 1, "do": "weld"},
        {"at": 20.0, "station": 1, "do": "stop"},
        {"at": 30.0, "station": 1, "do": "request"},
        {"at": 40.0, "station": 1, "do": "unplug"},
    ]
    events += charging(at=45.0)
    report, runner = run(events, until=60)
    weld = report.first("fault", 1, code="ContactorWelded", active=True)
    assert weld is not None and 21.0 <= weld["t"] <= 21.3  # commanded open at ~20.01, 1 s of voltage
    st = runner.engine.stations[1]
    assert "ContactorWelded" in active(runner) and st.contactor is False and st.pilot.value == "F"
    assert not [e for e in report.of("duty", 1) if e["t"] > weld["t"] and e["duty_pct"] not in (0.0,)]
    assert runner.service.handle({"cmd": "clear_fault", "station": 1})["cleared"] == []
    assert runner.service.handle({"cmd": "clear_fault", "station": 1, "service": True})["cleared"] == [
        "ContactorWelded"
    ]


def test_state_d_without_ventilation_never_closes(run) -> None:
    events = [{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}, {"at": 1.5, "station": 1, "do": "vent"},
              {"at": 2.0, "station": 1, "do": "request"}]
    report, runner = run(events, until=15)
    assert report.first("state", 1, to="D") is not None
    assert report.first("fault", 1, code="VentilationNotAvailable", active=True) is not None
    assert not closes(report)


def test_state_d_with_ventilation_charges(run) -> None:
    events = [{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}, {"at": 1.5, "station": 1, "do": "vent"},
              {"at": 2.0, "station": 1, "do": "request"}]
    report, _ = run(events, until=15, stations=[{"id": 1, "ventilation": True}])
    assert closes(report) and closes(report)[0] - 2.0 < 3.0


@pytest.mark.parametrize(("cable", "amps", "duty"), [(13, 13.0, 21.67), (20, 20.0, 33.33), (32, 32.0, 53.33)])
def test_cable_rating_from_pp_caps_the_offer(run, cable: int, amps: float, duty: float) -> None:
    report, runner = run(charging(at=1.0, cable_a=cable), until=10)
    first = report.first("duty", 1, after=0.5)
    assert first["offered_a"] == pytest.approx(amps, abs=0.01) and first["duty_pct"] == pytest.approx(duty, abs=0.01)
    reply = runner.service.handle({"cmd": "set", "station": 1, "current_a": amps + 1, "allowed": True})
    assert not reply["ok"] and "rating" in reply["error"]["message"]


def test_one_wake_up_after_30_s_in_b_and_the_sleeping_car_then_charges(run) -> None:
    events = [{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}, {"at": 1.5, "station": 1, "do": "sleep"},
              {"at": 2.0, "station": 1, "do": "request"}]
    report, _ = run(events, until=60)
    pwm_on = report.first("duty", 1, after=0.5)["t"]
    f = [e["t"] for e in report.of("duty", 1) if e["duty_pct"] == 0.0 and e["t"] > 0.5]
    assert len(f) == 1 and f[0] - pwm_on == pytest.approx(30.0, abs=0.05)
    back = report.first("duty", 1, after=f[0])
    assert back["t"] - f[0] == pytest.approx(4.0, abs=0.02) and back["offered_a"] > 0
    assert closes(report) and closes(report)[0] > back["t"]


def test_wake_up_only_once_per_plug_in(run) -> None:
    events = [{"at": 1.0, "station": 1, "do": "plug", "car": {"cable_a": 32}}]  # never asks for power
    report, _ = run(events, until=150)
    assert len([e for e in report.of("duty", 1) if e["duty_pct"] == 0.0 and e["t"] > 0.5]) == 1


def test_over_current_for_7_s_trips(run) -> None:
    report, _ = run(charging(at=1.0), until=40, site={"line_limit_a": 20})
    assert report.first("fault", 1, code="OverCurrent") is None  # a car that follows the pilot never trips
    report2, _ = run(charging(at=1.0, overdraw_a=5.0), until=40, site={"line_limit_a": 20})
    fault = report2.first("fault", 1, code="OverCurrent", active=True)
    assert fault is not None
    over_since = next(s["t"] for s in report2.samples if s["stations"]["1"]["current_a"][0] > 20 * 1.1 + 0.5)
    assert 6.0 <= fault["t"] - over_since <= 8.0
    assert opens(report2) and opens(report2)[0] - fault["t"] < 0.05


def test_over_temperature_derates_then_pauses(run) -> None:
    def heat(runner):
        runner.hat.temperature_c = 30.0

    events = charging(at=1.0)
    report, runner = run(events, until=10, setup=heat)
    runner.hat.temperature_c = 68.0
    runner.run(20)
    assert runner.engine.stations[1].offered_a == pytest.approx(16.0)
    runner.hat.temperature_c = 80.0
    runner.run(30)
    st = runner.engine.stations[1]
    assert st.offered_a == 0 and st.pilot.value == "X1"
    assert "OverTemperature" in active(runner)


def test_adc_stuck_is_an_adc_fault_and_opens(run) -> None:
    events = charging(at=1.0) + [{"at": 10.0, "do": "adc_stuck"}]
    report, _ = run(events, until=15)
    fault = report.first("fault", 1, code="ADCFault", active=True)
    # a frozen bus repeats one reply on every channel: CP-low then reads CP-high's positive level,
    # implausible after three ticks; the stuck rule would follow 0.5 s later
    assert fault is not None and 10.0 < fault["t"] <= 10.7
    assert opens(report, after=10) and opens(report, after=10)[0] - fault["t"] < 0.03


def test_short_spi_glitch_is_ridden_through_a_long_one_is_a_fault(run) -> None:
    report, _ = run(charging(at=1.0) + [{"at": 10.0, "do": "spi_error", "seconds": 0.015}], until=15)
    assert report.first("fault", 1, code="ADCFault") is None and not opens(report)
    report, _ = run(charging(at=1.0) + [{"at": 10.0, "do": "spi_error", "seconds": 2.0}], until=15)
    fault = report.first("fault", 1, code="ADCFault", active=True)
    assert fault is not None and fault["t"] - 10.0 <= 0.05
    assert opens(report, after=10)[0] - 10.0 <= 0.1


def test_meter_loss_is_a_meter_fault_and_opens(run) -> None:
    report, runner = run(charging(at=1.0) + [{"at": 10.0, "station": 1, "do": "meter_loss"}], until=15)
    fault = report.first("fault", 1, code="MeterFault", active=True)
    assert fault is not None and fault["t"] - 10.0 <= 0.5
    assert opens(report, after=10)


def test_state_e_is_a_pilot_fault(run) -> None:
    def short(runner):
        runner.hat.stations[1].short(0.0, True)

    report, runner = run([], until=1, setup=short)
    fault = report.first("fault", 1, code="PilotFault", active=True)
    assert fault is not None and fault["t"] <= 0.05 and "state E" in fault["message"]
    runner.hat.stations[1].short(1.0, False)
    runner.run(2)
    assert "PilotFault" not in active(runner)


def test_invalid_pp_is_refused(run) -> None:
    def bad_cable(runner):
        runner.hat.stations[1].pp_override_ohm = 3000.0  # between the 13 A band and the limit: no coding

    report, runner = run(charging(at=1.0), until=10, setup=bad_cable)
    assert report.first("fault", 1, code="PPInvalid", active=True) is not None
    assert not closes(report)


def test_pilot_death_drops_the_contactor_through_the_hardware_watchdog(run) -> None:
    report, runner = run(charging(at=1.0), until=10)
    assert runner.hat.stations[1].contacts
    # the pilot process stops ticking (no watchdog kicks); the HAT alone opens the contactor
    runner.clock.advance_to(10.5)
    runner.hat.advance(10.5)
    opened = opens(report, after=9.9)
    assert opened and opened[0] <= 10.0 + 0.1 + 0.01 + 0.011


def test_readings_between_bands_for_1_s_are_a_pilot_fault(run) -> None:
    from appliance.simulator.pilot_line import CarLoad

    report, runner = run(charging(at=1.0), until=10)
    runner.hat.stations[1].override_load(10.0, CarLoad(1511.0))  # 7.5 V: between C and B
    runner.run(13)
    fault = report.first("fault", 1, code="PilotFault", active=True)
    assert fault is not None and 11.0 <= fault["t"] <= 11.1 and "between bands" in fault["message"]
    assert opens(report, after=10) and opens(report, after=10)[0] - fault["t"] < 0.03


def test_a_sagging_12_v_rail_is_a_pilot_fault_on_both_stations(run) -> None:
    report, runner = run(charging(at=1.0), until=10)
    runner.hat.rail_v = 10.0
    runner.run(11)
    for sid in (1, 2):
        fault = report.first("fault", sid, code="PilotFault", active=True)
        assert fault is not None and fault["t"] - 10.0 < 0.03 and "rail" in fault["message"]
    assert opens(report, after=10)
