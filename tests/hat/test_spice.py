"""ngspice on the netlist: ADC voltages against the software's own scaling, pilot waveform
against the standard, peak-detector decay against the board description's tau.

Every expected ADC voltage comes from `appliance.board.Scaling`, the code the pilot process
runs; the plateau a car state should produce comes from the board description.
"""

from __future__ import annotations

import math

import pytest

from appliance.board import Scaling
from appliance.board.description import parse_board
from appliance.j1772.proximity import cable_rating
from appliance.j1772.states import VehicleState, classify, diode_ok
from appliance.simulator.peak_detector import PeakDetector, Waveform
from hat.build import Design
from hat.paths import BOARD_TOML
from hat.sim.cases import standard_cases
from hat.sim.deck import Case, Timing, hold_samples
from hat.sim.expected import detector_outputs, plateau_high, plateau_low

CASES = standard_cases()
READINGS = [(c, n) for c in CASES for n in (1, 2)]
IDS = [f"{c.name}-S{n}" for c, n in READINGS]
TOLERANCE = 0.02
CABLE_CODES = {1500.0: 13.0, 680.0: 20.0, 220.0: 32.0, 100.0: 63.0}   # SPEC §3, Type 2 PP


def _within(report: dict, simulated: float, expected: float, what: str) -> None:
    error = abs(simulated / expected - 1)
    report["errors"].append((error, what))
    assert error < TOLERANCE, f"{what}: ngspice {simulated:.4f} V, scaling {expected:.4f} V"


def _stimulus(case: Case, station: int):  # type: ignore[no-untyped-def]
    return case.stations[station - 1]


@pytest.mark.parametrize(("case", "station"), READINGS, ids=IDS)
def test_cp_adc_voltages_match_the_scaling(sim: dict, hat_design: Design, report: dict,
                                           case: Case, station: int) -> None:
    """The ADC sees each detector's peak right after its plateau (CP-high: the maximum,
    CP-low: the minimum over a period); both must be what Scaling predicts."""
    board, r = hat_design.board, sim[case.name]
    stim = _stimulus(case, station)
    high, low = detector_outputs(board, stim.load, stim.duty)
    scaling = Scaling(board)
    ch_high, ch_low = board.adc_channel("cp_high", station), board.adc_channel("cp_low", station)
    _within(report, r[f"adc_ch{ch_high}_max"], scaling.adc_volts_from_pilot(high),
            f"{case.name} S{station} CP-high ch{ch_high}")
    _within(report, r[f"adc_ch{ch_low}_min"], scaling.adc_volts_from_pilot(low),
            f"{case.name} S{station} CP-low ch{ch_low}")


@pytest.mark.parametrize(("case", "station"), READINGS, ids=IDS)
def test_plateaus_fall_in_the_spec_bands(sim: dict, hat_design: Design, case: Case,
                                         station: int) -> None:
    r, stim = sim[case.name], _stimulus(case, station)
    high, low = r[f"s{station}_cp_high"], r[f"s{station}_cp_low"]
    state = stim.load.state
    if stim.duty <= 0:                                   # F: the EVSE drives -12 V
        assert classify(high) is VehicleState.F and classify(low) is VehicleState.F
        return
    assert classify(high) is VehicleState(state), f"plateau {high:.3f} V"
    if stim.duty >= 1 or state == "E":
        return
    if stim.load.diode:
        assert diode_ok(low), f"negative plateau {low:.3f} V with the diode in place"
    else:
        assert not diode_ok(low)
        expected = plateau_low(hat_design.board, stim.load)
        assert low == pytest.approx(expected, abs=0.2)   # -8.8 V with 2.74 kOhm in state B


PWM_STATIONS = [(c, n) for c, n in READINGS
                if 0 < _stimulus(c, n).duty < 1 and _stimulus(c, n).load.state != "E"]


@pytest.mark.parametrize(("case", "station"), PWM_STATIONS,
                         ids=[f"{c.name}-S{n}" for c, n in PWM_STATIONS])
def test_pilot_waveform(sim: dict, hat_design: Design, case: Case, station: int) -> None:
    """Duty cycle kept, edges within IEC 61851-1 (10-90 %: < 10 us in B, < 7 us in C)."""
    board, r, stim = hat_design.board, sim[case.name], _stimulus(case, station)
    period = 1 / board.pilot.pwm_frequency_hz
    assert r[f"s{station}_high_time"] / period == pytest.approx(stim.duty, abs=0.005)
    limit = {"B": 10e-6, "C": 7e-6}.get(stim.load.state, 10e-6)
    assert 0 < r[f"s{station}_rise"] < limit


STATE_C = [(c, n) for c, n in PWM_STATIONS
           if _stimulus(c, n).load.state == "C" and _stimulus(c, n).load.diode]


@pytest.mark.parametrize(("case", "station"), STATE_C, ids=[f"{c.name}-S{n}" for c, n in STATE_C])
def test_pilot_into_state_c_stays_within_spec(sim: dict, hat_design: Design, case: Case,
                                              station: int) -> None:
    """882 Ohm + diode: 6 V nominal, -12 V +/- 5 % negative plateau (IEC 61851-1 Annex A)."""
    board, r = hat_design.board, sim[case.name]
    high, low = r[f"s{station}_cp_high"], r[f"s{station}_cp_low"]
    assert high == pytest.approx(plateau_high(board, _stimulus(case, station).load), abs=0.15)
    assert 5.0 < high < 7.0
    assert -12.6 < low < -11.4


DROOP = [(c, n, det) for c, n in PWM_STATIONS for det in ("high", "low")
         if (det == "high" and _stimulus(c, n).duty <= 0.55)
         or (det == "low" and _stimulus(c, n).duty >= 0.55)]


@pytest.mark.parametrize(("case", "station", "detector"), DROOP,
                         ids=[f"{c.name}-S{n}-{d}" for c, n, d in DROOP])
def test_peak_detector_decay_follows_tau(sim: dict, hat_design: Design, case: Case,
                                         station: int, detector: str) -> None:
    """Between plateaus the held voltage decays to 0 V with tau = R_bleed * C_hold: the
    droop matches the simulated HAT's peak-detector model with the board's tau."""
    board, r, stim = hat_design.board, sim[case.name], _stimulus(case, station)
    tau = board.pilot.peak_detector.tau_s
    timing = Timing(1 / board.pilot.pwm_frequency_hz)
    t1, t2 = hold_samples(stim.duty, timing, detector)
    v1, v2 = (abs(r[f"s{station}_det_{detector}_hold{i}"]) for i in (1, 2))
    assert (t2 - t1) / math.log(v1 / v2) == pytest.approx(tau, rel=0.05)

    model = PeakDetector(tau, positive=detector == "high")
    high, low = detector_outputs(board, stim.load, stim.duty)
    model.set_input(0.0, Waveform(high, low, stim.duty, timing.period, timing.delay))
    assert v2 / v1 == pytest.approx(model.value(t2) / model.value(t1), abs=0.005)


@pytest.mark.parametrize(("case", "station"), PWM_STATIONS,
                         ids=[f"{c.name}-S{n}" for c, n in PWM_STATIONS])
def test_peak_detectors_catch_the_plateaus(sim: dict, case: Case, station: int) -> None:
    """Recharged within each plateau (40 us at 96 % duty), overshoot under 50 mV."""
    r = sim[case.name]
    assert r[f"s{station}_det_high_max"] == pytest.approx(r[f"s{station}_cp_high"], abs=0.05)
    assert r[f"s{station}_det_low_min"] == pytest.approx(r[f"s{station}_cp_low"], abs=0.05)


@pytest.mark.parametrize(("case", "station"), READINGS, ids=IDS)
def test_pp_codes(sim: dict, hat_design: Design, report: dict, case: Case, station: int) -> None:
    """The PP divider reads back as the cable's resistor and its current rating."""
    board, r, stim = hat_design.board, sim[case.name], _stimulus(case, station)
    scaling = Scaling(board)
    volts = r[f"adc_ch{board.adc_channel('pp', station)}_max"]
    ohms = math.inf if stim.pp_ohms is None else stim.pp_ohms
    _within(report, volts, scaling.adc_volts_from_pp_ohms(ohms), f"{case.name} S{station} PP")
    read_back = scaling.pp_ohms_from_counts(scaling.counts_from_adc_volts(volts))
    if stim.pp_ohms is None:
        assert math.isinf(read_back)
    else:
        assert read_back == pytest.approx(stim.pp_ohms, rel=TOLERANCE)
        if stim.pp_ohms in CABLE_CODES:
            assert cable_rating(read_back) == CABLE_CODES[stim.pp_ohms]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rail_monitor_and_temperature(sim: dict, hat_design: Design, report: dict,
                                      case: Case) -> None:
    board, r = hat_design.board, sim[case.name]
    scaling = Scaling(board)
    rail = r["rail_p12"]
    rm = board.rail_monitor
    assert abs(rail / rm.nominal_v - 1) * 100 < rm.tolerance_pct
    assert abs(r["rail_n12"] / -board.pilot.rail_v - 1) < 0.01
    _within(report, r[f"adc_ch{board.adc_channel('rail_12v')}_max"],
            scaling.adc_volts_from_rail(rail), f"{case.name} rail")
    _within(report, r[f"adc_ch{board.adc_channel('temperature')}_max"],
            scaling.adc_volts_from_temperature(case.temperature_c), f"{case.name} temperature")


def test_a_wrong_board_description_would_be_caught(sim: dict, hat_design: Design) -> None:
    """The 2 % check has teeth: a 5 % different bias resistor in board.toml fails it."""
    text = BOARD_TOML.read_text(encoding="utf-8")
    wrong = parse_board(text.replace("bias_ohm = 26.7e3", "bias_ohm = 28.0e3"))
    assert wrong.pilot.level_shift.bias_ohm == 28.0e3
    scaling, board = Scaling(wrong), hat_design.board
    worst = 0.0
    for case, station in READINGS:
        stim = _stimulus(case, station)
        high, _ = detector_outputs(board, stim.load, stim.duty)
        measured = sim[case.name][f"adc_ch{board.adc_channel('cp_high', station)}_max"]
        worst = max(worst, abs(measured / scaling.adc_volts_from_pilot(high) - 1))
    assert worst > TOLERANCE
