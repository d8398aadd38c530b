"""SPEC §3 signal integrity: plateau and diode estimates, stuck and implausible channels, bus errors.

Bursts are built here, conversion by conversion, at the sample times of the real burst layout:
the CP channels from the peak-detector model (droop included), the slow channels with half a
count of converter noise so that live channels move as they do on the board.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import pytest

from appliance.board.description import load_board
from appliance.board.scaling import Scaling
from appliance.j1772.duty import duty_from_current
from appliance.j1772.states import VehicleState, classify, diode_ok
from appliance.pilot.config import Timing
from appliance.pilot.sensing import CP_REPEATS, MIN_STUCK_CONVERSIONS, Sensed, Sensing, plateau
from appliance.scenario.runner import ScenarioRunner
from appliance.simulator.peak_detector import PeakDetector, Waveform
from appliance.simulator.pilot_line import R_STATE_B, R_STATE_C, R_STATE_D, CarLoad, cp_plateau
from tests.bus_fixtures import adc_conversion_s
from tests.scenario_helpers import scenario

BOARD = load_board()
SCALING = Scaling(BOARD)
TIMING = Timing()
S = VehicleState
FRAME_S = adc_conversion_s(BOARD)
PERIOD_S = 1 / BOARD.pilot.pwm_frequency_hz
LSB_V = BOARD.adc.vref_v / SCALING.full_scale
TOP = SCALING.full_scale - 1
STUCK_TICKS = round(TIMING.adc_stuck_s / TIMING.loop_period_s)  # a CP channel: 8 conversions a tick
SLOW_STUCK_TICKS = MIN_STUCK_CONVERSIONS  # PP, rail, temperature: one conversion a tick


def stuck_ticks(signal: str) -> int:
    return STUCK_TICKS if signal.startswith("cp_") else SLOW_STUCK_TICKS
HOLD_TICKS = TIMING.bus_error_ticks - 1

Source = Callable[[float], int]  # counts a channel converts at time t


def pilot_counts(volts: float) -> int:
    return SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pilot(volts))


class Rig:
    """Sensing for both stations, fed with bursts built from one source per channel."""

    def __init__(self, seed: int = 1) -> None:
        self.sensing = Sensing(BOARD, TIMING, [1, 2])
        self.rng = random.Random(seed)
        self.sources: dict[tuple[str, int | None], Source] = {
            ("rail_12v", None): self.live(lambda: SCALING.adc_volts_from_rail(12.0)),
            ("temperature", None): self.live(lambda: SCALING.adc_volts_from_temperature(30.0)),
        }
        for sid in (1, 2):
            self.car(sid, R_STATE_C, amps=16)
            self.sources[("pp", sid)] = self.live(lambda: SCALING.adc_volts_from_pp_ohms(220.0))
        self.t = 0.05

    def live(self, adc_volts: Callable[[], float]) -> Source:
        return lambda t: self.convert(adc_volts())

    def convert(self, adc_volts: float) -> int:
        """What the MCP3208 returns, with its half a count of noise."""
        return SCALING.counts_from_adc_volts(adc_volts + self.rng.gauss(0.0, 0.5 * LSB_V))

    def car(self, sid: int, ohms: float, amps: float | None, sigma: float = 0.0, diode: bool = True,
            generator: float | None = None) -> None:
        """The station's pilot (PWM at `amps`, or constant `generator` volts) into a car, through both detectors."""
        load = CarLoad(ohms, diode)
        tau = BOARD.pilot.peak_detector.tau_s
        if amps is None:
            wave = Waveform.constant(cp_plateau(generator, load, BOARD.pilot), 0.0)
        else:
            hi, lo = (cp_plateau(v, load, BOARD.pilot) for v in (BOARD.pilot.rail_v, -BOARD.pilot.rail_v))
            wave = Waveform(hi, lo, duty_from_current(amps) / 100, PERIOD_S, 0.0)
        for signal, positive in (("cp_high", True), ("cp_low", False)):
            detector = PeakDetector(tau, positive)
            detector.set_input(0.0, wave)
            self.sources[(signal, sid)] = lambda t, d=detector: self.convert(
                SCALING.adc_volts_from_pilot(d.value(t) + (self.rng.gauss(0.0, sigma) if sigma else 0.0)))

    def burst(self, t0: float) -> list[list[int]]:
        return [[self.sources[key](t0 + i * FRAME_S)] for i, key in enumerate(self.sensing.layout)]

    def tick(self, edit: Callable[[list[list[int]]], None] | None = None) -> Sensed:
        """One control tick 10 ms after the last; `edit` may change conversions before Sensing sees them."""
        bursts = self.burst(self.t)
        if edit is not None:
            edit(bursts)
        self.t += TIMING.loop_period_s
        return self.sensing.update(bursts)

    def slots(self, signal: str, sid: int | None = None) -> list[int]:
        return [i for i, key in enumerate(self.sensing.layout) if key == (signal, sid)]


def set_all(rig: Rig, signal: str, sid: int | None, counts: int) -> Callable[[list[list[int]]], None]:
    def edit(bursts: list[list[int]]) -> None:
        for i in rig.slots(signal, sid):
            bursts[i] = [counts]

    return edit


def errors(sensed: Sensed) -> list[str]:
    return [e for e in [sensed.error, sensed.rail_error, *(s.error for s in sensed.stations.values())] if e]


# ---------------------------------------------------------------- the estimator
def test_plateau_drops_the_most_extreme_sample_and_averages_the_rest_of_the_extreme_half() -> None:
    samples = [3.0, 8.0, 1.0, 6.0, 2.0, 7.0, 4.0, 5.0]
    assert plateau(samples, positive=True) == pytest.approx((7 + 6 + 5) / 3)
    assert plateau(samples, positive=False) == pytest.approx((2 + 3 + 4) / 3)
    assert plateau([9.0, 1.0, 5.0, 7.0], positive=True) == 7.0  # four samples: the second highest
    with pytest.raises(ValueError, match="at least 4"):
        plateau([1.0, 2.0, 3.0], positive=True)
    with pytest.raises(ValueError, match="cp_repeats"):
        Sensing(BOARD, TIMING, [1], cp_repeats=3)


def test_every_cp_channel_is_sampled_across_a_whole_pwm_period_on_the_bus() -> None:
    runner = ScenarioRunner(scenario([]))
    runner.run(0.0)  # one control tick: the real drivers on the simulated bus
    adc = [r for r in runner.hat.spi.log if r.cs == BOARD.adc.spi_cs and r.bus == BOARD.adc.spi_bus]
    burst = [r for r in adc if r.message == adc[-1].message]
    assert len(burst) == len(runner.controller.sensing.channels) == 4 * CP_REPEATS + 4
    for channel in (BOARD.adc_channel(signal, sid) for sid in (1, 2) for signal in ("cp_high", "cp_low")):
        times = [r.t for r in burst if decode_channel(r.tx) == channel]
        assert len(times) == CP_REPEATS == 8
        assert [b - a for a, b in zip(times, times[1:], strict=False)] == pytest.approx([4 * FRAME_S] * 7)
        assert times[-1] - times[0] + 4 * FRAME_S >= PERIOD_S  # every phase of the period within one step


def decode_channel(tx: bytes) -> int:
    """The channel an MCP3208 command frame selects."""
    return (tx[0] & 1) << 2 | tx[1] >> 6


PHASES = [k * PERIOD_S / 50 for k in range(50)]


@pytest.mark.parametrize(("ohms", "state"), [(R_STATE_B, S.B), (R_STATE_C, S.C), (R_STATE_D, S.D)])
@pytest.mark.parametrize("amps", [6, 32, 80])
def test_droop_keeps_the_plateau_in_its_band_and_the_diode_in_the_ok_band_at_any_phase(
        ohms: float, state: VehicleState, amps: float) -> None:
    rig = Rig()
    rig.car(1, ohms, amps)
    worst_high, worst_low = math.inf, -math.inf
    for phase in PHASES:
        rig.t = 0.05 + phase
        s = rig.tick().stations[1]
        worst_high, worst_low = min(worst_high, s.cp_high_v), max(worst_low, s.cp_low_v)
        assert classify(s.cp_high_v) is state and diode_ok(s.cp_low_v)
    plateau_v = cp_plateau(12.0, CarLoad(ohms), BOARD.pilot)
    # 6 A duty droops the raw samples by up to 9 % (0.54 V of a 6 V plateau); the estimate by under 3.5 %
    assert plateau_v - worst_high <= 0.035 * plateau_v
    assert worst_low <= -11.5  # 96 % duty leaves the negative detector 40 µs per period


@pytest.mark.parametrize("amps", [6, 32, 80])
@pytest.mark.parametrize("wild_v", [12.9, -12.9, 0.0, 15.3, -15.3])
def test_one_wild_conversion_never_changes_the_band_of_either_estimate(amps: float, wild_v: float) -> None:
    rig = Rig()
    rig.car(1, R_STATE_C, amps)
    for phase in PHASES[::5]:
        for position in range(CP_REPEATS):
            for signal in ("cp_high", "cp_low"):
                def wild(bursts: list[list[int]], signal: str = signal, position: int = position) -> None:
                    bursts[rig.slots(signal, 1)[position]] = [pilot_counts(wild_v)]

                rig.t = 0.05 + phase
                s = rig.tick(wild).stations[1]
                assert classify(s.cp_high_v) is S.C, (phase, position, signal)
                assert diode_ok(s.cp_low_v), (phase, position, signal)
                assert s.error is None


def test_a_wild_conversion_in_every_burst_is_never_a_fault() -> None:
    rig = Rig()
    slot = rig.slots("cp_high", 1)[3]

    def wild(bursts: list[list[int]]) -> None:
        bursts[slot] = [TOP]

    assert not [e for _ in range(200) for e in errors(rig.tick(wild))]


# ---------------------------------------------------------------- stuck channels
@pytest.mark.parametrize("signal", ["cp_high", "cp_low", "pp"])
@pytest.mark.parametrize("sid", [1, 2])
def test_a_channel_repeating_its_count_for_half_a_second_is_its_stations_error(signal: str, sid: int) -> None:
    rig = Rig()
    other = 3 - sid
    frozen = rig.burst(rig.t)[rig.slots(signal, sid)[0]][0]
    flagged = None
    for k in range(round(1.0 / TIMING.loop_period_s)):
        sensed = rig.tick(set_all(rig, signal, sid, frozen))
        if sensed.stations[sid].error is not None:
            flagged = flagged if flagged is not None else k
            assert sensed.stations[other].error is None and sensed.error is None
    assert flagged == stuck_ticks(signal)  # 0.50 s (CP) or 0.90 s (PP) after the first frozen conversion: within 1 s
    s = sensed.stations[sid]
    adc = BOARD.adc_channel(signal, sid)
    label = {"cp_high": "CP-high", "cp_low": "CP-low", "pp": "PP"}[signal]
    assert s.error == f"station {sid} {label} (ADC ch{adc}) stuck: every conversion read {frozen} for 0.99 s"
    values = {"cp_high": s.cp_high_v, "cp_low": s.cp_low_v, "pp": s.pp_ohm}
    assert math.isnan(values.pop(signal)) and all(math.isfinite(v) for v in values.values())
    # the channel moves again: the error goes with its first new count
    assert rig.tick(set_all(rig, signal, sid, frozen + 1)).stations[sid].error is None


@pytest.mark.parametrize(
    ("signal", "label"), [("rail_12v", "+12 V rail monitor"), ("temperature", "board temperature")]
)
def test_a_stuck_rail_or_temperature_channel_is_board_wide(signal: str, label: str) -> None:
    rig = Rig()
    frozen = rig.burst(rig.t)[rig.slots(signal)[0]][0]
    history = [rig.tick(set_all(rig, signal, None, frozen)) for _ in range(SLOW_STUCK_TICKS + 1)]
    assert [k for k, s in enumerate(history) if s.error] == [SLOW_STUCK_TICKS]
    assert (
        history[-1].error
        == f"{label} (ADC ch{BOARD.adc_channel(signal)}) stuck: every conversion read {frozen} for 0.90 s"
    )
    assert all(s.error is None for s in history[-1].stations.values())


def test_one_changed_count_in_half_a_second_keeps_a_channel_alive() -> None:
    rig = Rig()
    slots = rig.slots("cp_high", 1)
    frozen = rig.burst(rig.t)[slots[0]][0]
    for k in range(3 * STUCK_TICKS):
        def nearly(bursts: list[list[int]], k: int = k) -> None:
            for i in slots:
                bursts[i] = [frozen + (1 if k % (STUCK_TICKS - 1) == 0 and i == slots[-1] else 0)]

        assert rig.tick(nearly).stations[1].error is None


def test_a_saturated_channel_is_not_stuck() -> None:
    """No cable: PP sits at full scale and repeats it for as long as the socket is empty."""
    rig = Rig()
    for sid in (1, 2):
        rig.sources[("pp", sid)] = lambda t: TOP
    history = [rig.tick() for _ in range(3 * STUCK_TICKS)]
    assert not [e for s in history for e in errors(s)]
    assert math.isinf(history[-1].stations[1].pp_ohm)


# ---------------------------------------------------------------- implausible values
IMPLAUSIBLE = [
    ("cp_high", TOP, "station 1 CP-high (ADC ch0) implausible: reads +15.3 V, the end of the ADC range"),
    ("cp_high", 0, "station 1 CP-high (ADC ch0) implausible: reads -15.3 V, the end of the ADC range"),
    (
        "cp_high",
        pilot_counts(-12.0),
        "station 1 CP-high (ADC ch0) implausible: reads -12.0 V, a positive peak detector",
    ),
    ("cp_low", 0, "station 1 CP-low (ADC ch1) implausible: reads -15.3 V, the end of the ADC range"),
    ("cp_low", pilot_counts(12.0), "station 1 CP-low (ADC ch1) implausible: reads +12.0 V, a negative peak detector"),
]


@pytest.mark.parametrize(("signal", "counts", "message"), IMPLAUSIBLE)
def test_an_implausible_cp_reading_is_held_two_ticks_then_is_the_stations_error(
        signal: str, counts: int, message: str) -> None:
    rig = Rig()
    good = rig.tick().stations[1]
    for _ in range(HOLD_TICKS):
        held = rig.tick(set_all(rig, signal, 1, counts)).stations[1]
        assert held.error is None
        assert (held.cp_high_v, held.cp_low_v) == pytest.approx((good.cp_high_v, good.cp_low_v), abs=0.1)
    sensed = rig.tick(set_all(rig, signal, 1, counts))
    assert sensed.stations[1].error.startswith(message)
    assert math.isnan(getattr(sensed.stations[1], f"{signal}_v"))
    assert sensed.stations[2].error is None and sensed.error is None


def test_swapped_cp_channels_are_implausible_in_every_pilot_mode() -> None:
    for amps, generator in ((None, 12.0), (16, None), (None, -12.0)):
        rig = Rig()
        rig.car(1, R_STATE_B, amps, generator=generator)

        def swap(bursts: list[list[int]], rig: Rig = rig) -> None:
            high, low = rig.slots("cp_high", 1), rig.slots("cp_low", 1)
            for h, lo in zip(high, low, strict=False):
                bursts[h], bursts[lo] = bursts[lo], bursts[h]

        history = [rig.tick(swap) for _ in range(TIMING.bus_error_ticks)]
        assert "implausible" in (history[-1].stations[1].error or ""), (amps, generator)


def test_temperature_out_of_the_sensor_range_is_board_wide_and_the_rail_is_a_rail_error() -> None:
    rig = Rig()
    rig.tick()
    hot = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_temperature(150.0))
    history = [rig.tick(set_all(rig, "temperature", None, hot)) for _ in range(TIMING.bus_error_ticks)]
    assert [s.error is not None for s in history] == [False] * HOLD_TICKS + [True]
    assert (
        history[-1].error == "board temperature (ADC ch7) implausible: reads 150 °C, outside the sensor's -40..125 °C"
    )
    assert history[0].temperature_c == pytest.approx(30.0, abs=0.5)  # held meanwhile
    rig = Rig()
    low_rail = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_rail(9.0))
    history = [rig.tick(set_all(rig, "rail_12v", None, low_rail)) for _ in range(TIMING.bus_error_ticks)]
    assert [s.rail_error is not None for s in history] == [False] * HOLD_TICKS + [True]
    assert history[-1].rail_error == "+12 V pilot rail at 9.0 V (expected 12 V ± 10 %)"
    assert history[-1].error is None


@pytest.mark.parametrize(
    ("what", "ohms", "amps", "generator"),
    [("X1, no car", math.inf, None, 12.0), ("F, car in B", R_STATE_B, None, -12.0), ("E, CP shorted", 0.0, 16, None),
     ("C at 6 A", R_STATE_C, 6, None), ("C at 80 A", R_STATE_C, 80, None), ("D at 16 A", R_STATE_D, 16, None),
     ("no diode", R_STATE_C, 16, None)],
)
def test_a_healthy_board_is_never_implausible_even_at_sigma_0_7_v(what: str, ohms: float, amps: float | None,
                                                                 generator: float | None) -> None:
    rig = Rig(seed=5)
    for sid in (1, 2):
        rig.car(sid, ohms, amps, sigma=0.7, generator=generator, diode=what != "no diode")
    found = Counter(e for _ in range(1000) for e in errors(rig.tick()))
    assert not found, what


# ---------------------------------------------------------------- bus errors
def test_a_bus_error_holds_the_last_readings_and_three_in_a_row_are_an_error() -> None:
    rig = Rig()
    good = rig.tick()
    assert rig.sensing.update(None, "EIO") is good
    assert rig.sensing.update(None, "EIO") is good
    failed = rig.sensing.update(None, "EIO")
    assert failed.error == "ADC bus error: EIO"
    assert all(math.isnan(s.cp_high_v) and math.isnan(s.cp_low_v) for s in failed.stations.values())
    assert rig.tick().error is None  # the next good transfer clears it
    assert rig.sensing.update(None, "EIO").error is None  # and the count starts again
