"""SPEC §3 state table, car side: resistance -> CP voltage -> ADC counts -> volts -> state."""

from __future__ import annotations

import math

import pytest

from appliance.board.description import load_board
from appliance.board.scaling import Scaling
from appliance.j1772.states import VehicleState, classify, diode_ok
from appliance.simulator.peak_detector import PeakDetector, Waveform
from appliance.simulator.pilot_line import R_STATE_B, R_STATE_C, R_STATE_D, CarLoad, cp_plateau

BOARD = load_board()
SCALING = Scaling(BOARD)
S = VehicleState


@pytest.mark.parametrize(
    ("load", "volts", "state"),
    [(CarLoad(), 12.0, S.A), (CarLoad(R_STATE_B), 9.0, S.B), (CarLoad(R_STATE_C), 6.0, S.C),
     (CarLoad(R_STATE_D), 3.0, S.D), (CarLoad(0.0), 0.0, S.E)],
)
def test_car_resistance_to_voltage_to_state(load: CarLoad, volts: float, state: VehicleState) -> None:
    plateau = cp_plateau(12.0, load, BOARD.pilot)
    assert plateau == pytest.approx(volts, abs=0.1)
    counts = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pilot(plateau))
    measured = SCALING.pilot_volts_from_counts(counts)
    assert measured == pytest.approx(plateau, abs=0.01)  # one count is ~7.5 mV on the pilot
    assert classify(measured) is state


def test_state_f_is_the_evse_driving_minus_12_v() -> None:
    counts = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pilot(cp_plateau(-12.0, CarLoad(), BOARD.pilot)))
    assert classify(SCALING.pilot_volts_from_counts(counts)) is S.F


@pytest.mark.parametrize(("ohms", "negative"), [(R_STATE_B, -8.79), (R_STATE_C, -5.62)])
def test_missing_diode_shows_on_the_negative_plateau(ohms: float, negative: float) -> None:
    with_diode = cp_plateau(-12.0, CarLoad(ohms, diode=True), BOARD.pilot)
    without = cp_plateau(-12.0, CarLoad(ohms, diode=False), BOARD.pilot)
    assert with_diode == -12.0 and diode_ok(with_diode)
    assert without == pytest.approx(negative, abs=0.02) and not diode_ok(without)


def test_peak_detector_holds_the_plateau_and_decays_with_tau() -> None:
    tau = BOARD.pilot.peak_detector.tau_s
    assert tau == pytest.approx(0.010)
    det = PeakDetector(tau, positive=True)
    det.set_input(0.0, Waveform(9.0, -12.0, 0.10, 0.001, 0.0))  # 10 % duty, state B
    assert det.value(0.00005) == pytest.approx(9.0)  # inside the plateau
    assert det.value(0.00099) == pytest.approx(9.0 * math.exp(-0.00089 / tau))  # just before the next one
    # car unplugs at 5 ms: plateau jumps to 12 V and shows at once (a rise)
    det.set_input(0.005, Waveform(12.0, -12.0, 0.10, 0.001, 0.0))
    assert det.value(0.00601) == pytest.approx(12.0, abs=0.02)
    # B -> C (9 V -> 6 V): a fall shows only as the hold capacitor decays
    det.set_input(0.010, Waveform(6.0, -12.0, 0.10, 0.001, 0.0))
    assert det.value(0.0105) > 7.0
    assert det.value(0.0150) > 7.0  # 12 V decaying: tau ln 2 = 6.9 ms to reach 6 V
    assert det.value(0.0180) == pytest.approx(6.0, abs=0.6)


def test_negative_detector_mirrors() -> None:
    det = PeakDetector(0.01, positive=False)
    det.set_input(0.0, Waveform(9.0, -12.0, 0.533, 0.001, 0.0))
    assert det.value(0.0008) == pytest.approx(-12.0)
    assert -12.0 < det.value(0.00153) < -11.3  # droop during the high part stays within the diode band


@pytest.mark.parametrize(("ohms", "amps"), [(100, 63), (220, 32), (680, 20), (1500, 13)])
def test_pp_through_the_adc(ohms: float, amps: float) -> None:
    from appliance.j1772.proximity import cable_rating

    counts = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pp_ohms(ohms))
    assert SCALING.pp_ohms_from_counts(counts) == pytest.approx(ohms, rel=0.01)
    assert cable_rating(SCALING.pp_ohms_from_counts(counts)) == amps
