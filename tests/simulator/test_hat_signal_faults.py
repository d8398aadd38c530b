"""The simulated HAT under signal faults, read through the real drivers: converter noise, channel
glitches and frozen channels, the contactor's aux contact, a lost coil supply, a stalled loop."""

from __future__ import annotations

import statistics
from itertools import groupby

import pytest

from appliance.board import load_board
from appliance.board.scaling import Scaling
from appliance.j1772.states import VehicleState, classify
from appliance.simulator.car import CarSpec
from appliance.simulator.clock import SimClock
from appliance.simulator.hat import SimulatedHat
from appliance.simulator.station_model import HardwareEvent

BOARD = load_board()
SCALING = Scaling(BOARD)
PERIOD = 0.010  # the pilot's control tick
AUX_1 = BOARD.pins(1).contactor_aux
OPERATE_S = BOARD.contactor.operate_ms / 1000
RELEASE_S = BOARD.contactor.release_ms / 1000
WATCHDOG_S = BOARD.watchdog.timeout_ms / 1000


class Bench:
    """A simulated HAT driven as the pilot drives it: every tick kicks the watchdog."""

    def __init__(self, noise_v: float = 0.0, cars: tuple[int, ...] = ()) -> None:
        self.clock = SimClock()
        self.events: list[HardwareEvent] = []
        self.hat = SimulatedHat(BOARD, self.clock, noise_v=noise_v, seed=7, on_event=self.events.append)
        self.drivers = self.hat.drivers()
        self.io = self.drivers.station(1).io
        for sid in cars:
            self.hat.stations[sid].plug(0.0, CarSpec(cable_a=32))
        self.tick = 0

    def run(self, until: float, kick: bool = True) -> None:
        """Ticks up to `until`, kicking the watchdog on each unless told not to."""
        while (self.tick + 1) * PERIOD <= until + 1e-9:
            self.tick += 1
            self.at(self.tick * PERIOD)
            if kick:
                self.drivers.watchdog.kick()

    def at(self, t: float) -> None:
        self.clock.advance_to(t)
        self.hat.advance(t)

    def contactor(self, station: int = 1) -> list[tuple[float, bool]]:
        return [(e.t, bool(e.closed)) for e in self.events if e.kind == "contactor" and e.station == station]

    def burst(self, channels: list[int], repeats: int) -> list[list[int]]:
        """`repeats` interleaved conversions of `channels`, in as many bursts as a message holds."""
        chunk = 500 // len(channels)
        out: list[list[int]] = [[] for _ in channels]
        for start in range(0, repeats, chunk):
            for counts, more in zip(out, self.drivers.adc.burst(channels, min(chunk, repeats - start)), strict=False):
                counts.extend(more)
        return out

    def read(self, signal: str, station: int = 1, conversions: int = 1) -> list[int]:
        return self.burst([BOARD.adc_channel(signal, station)], conversions)[0]


def longest_repeat(counts: list[int]) -> int:
    return max(len(list(run)) for _, run in groupby(counts))


# -- converter noise -----------------------------------------------------------------------
def test_every_live_channel_keeps_changing_with_the_pilot_noise_off() -> None:
    """Constant inputs (X1, cars in B, no pilot noise): the converter's own transition noise
    (0.5 LSB rms) still moves every channel, so none repeats a count for long."""
    bench = Bench(noise_v=0.0, cars=(1, 2))
    bench.run(0.1)
    bursts = bench.burst(list(range(8)), 600)
    for channel, counts in enumerate(bursts):
        assert longest_repeat(counts) < 50, channel
        assert 0.3 < statistics.pstdev(counts) < 0.8, channel
    # ... centred on the ideal code: CP-high of a car in B under X1 reads its 9 V plateau
    cp_high = statistics.fmean(bursts[BOARD.adc_channel("cp_high", 1)])
    ideal = SCALING.adc_volts_from_pilot(bench.hat.stations[1].cp_high.value(0.1)) / BOARD.adc.vref_v * 4096
    assert cp_high == pytest.approx(ideal - 0.5, abs=0.2)  # floor() of the noisy input


def test_pp_without_a_cable_sits_at_full_scale() -> None:
    """No cable: the PP pull-up holds the pin at the reference, where the converter clips. Noise
    only rarely brings it a code down; a pilot must not take this for a frozen channel."""
    bench = Bench(noise_v=0.0)
    counts = bench.read("pp", conversions=600)
    assert min(counts) >= 4093 and counts.count(4095) > 0.9 * len(counts)


# -- glitches and frozen channels, by what the channel means ------------------------------
def test_glitch_reads_pilot_volts_then_the_live_value() -> None:
    bench = Bench(cars=(1,))
    bench.run(0.1)
    live = bench.read("cp_high", conversions=3)
    bench.hat.adc_glitch(1, "cp_high", 12.9, conversions=2)
    glitched = bench.read("cp_high", conversions=4)
    code = SCALING.counts_from_adc_volts(SCALING.adc_volts_from_pilot(12.9))
    assert glitched[:2] == [code, code]
    assert SCALING.pilot_volts_from_counts(code) == pytest.approx(12.9, abs=0.01)
    assert classify(SCALING.pilot_volts_from_counts(code)) is VehicleState.A  # the car shows B
    assert all(abs(n - live[0]) <= 3 for n in glitched[2:])
    assert classify(SCALING.pilot_volts_from_counts(glitched[2])) is VehicleState.B
    # station 2's channels and station 1's CP-low are untouched
    assert abs(bench.read("cp_high", station=2)[0] - bench.read("cp_high", station=2)[0]) <= 3


def test_pp_glitch_is_the_sense_node_voltage() -> None:
    bench = Bench(cars=(1,))
    bench.hat.adc_glitch(1, "pp", 0.0)  # PP shorted to PE for one conversion
    bench.hat.adc_glitch(2, "pp", BOARD.adc.vref_v)  # open
    first = bench.read("pp", conversions=2)
    assert first[0] == 0 and SCALING.pp_ohms_from_counts(first[0]) < 1.0
    assert SCALING.pp_ohms_from_counts(first[1]) == pytest.approx(220.0, rel=0.01)
    assert bench.read("pp", station=2) == [4095]


def test_frozen_channel_repeats_while_its_neighbours_move() -> None:
    bench = Bench(cars=(1,))
    bench.read("cp_low")
    bench.hat.adc_channel_stuck(1, "cp_low")
    frozen, live = bench.burst([BOARD.adc_channel("cp_low", 1), BOARD.adc_channel("cp_high", 1)], 300)
    assert len(set(frozen)) == 1 and len(set(live)) > 1


# -- the contactor's auxiliary contact ------------------------------------------------------
def test_aux_contact_follows_the_contacts_not_the_command() -> None:
    bench = Bench()
    bench.run(0.1)
    assert bench.io.contactor_aux() is False and bench.hat.pins.pin(AUX_1).state is True  # pulled up
    bench.at(0.105)
    bench.io.set_contactor(True)
    bench.run(0.12)
    assert bench.io.contactor_aux() is False  # commanded, still moving
    bench.run(0.14)
    assert bench.contactor() == [(pytest.approx(0.105 + OPERATE_S), True)]
    assert bench.io.contactor_aux() is True and bench.hat.pins.pin(AUX_1).state is False
    bench.io.set_contactor(False)
    bench.run(0.16)
    assert bench.contactor()[-1] == (pytest.approx(0.14 + RELEASE_S), False)
    assert bench.io.contactor_aux() is False
    assert bench.drivers.station(2).io.contactor_aux() is False  # the other station's line


def test_aux_contact_of_a_welded_contactor_stays_closed() -> None:
    bench = Bench()
    bench.io.set_contactor(True)
    bench.run(0.1)
    bench.hat.stations[1].weld_armed = True
    bench.io.set_contactor(False)
    bench.run(1.0)
    assert bench.hat.stations[1].welded and bench.contactor() == [(pytest.approx(OPERATE_S), True)]
    assert bench.io.contactor_aux() is True


# -- a lost coil supply ---------------------------------------------------------------------
@pytest.mark.parametrize("drive_kept", [True, False])
def test_coil_supply_loss_opens_and_the_driven_coil_pulls_in_again(drive_kept: bool) -> None:
    bench = Bench()
    bench.io.set_contactor(True)
    bench.run(0.5)
    bench.at(0.503)  # between two ticks
    bench.hat.stations[1].drop_coil_supply(0.503, 0.5)
    bench.hat.advance(0.503)
    bench.run(0.6)
    assert bench.contactor()[-1] == (pytest.approx(0.503 + RELEASE_S), False)
    assert bench.io.contactor_aux() is False
    if not drive_kept:
        bench.io.set_contactor(False)
    bench.run(1.2)
    if drive_kept:  # the supply is back at 1.003: the coil pulls in with no new command
        assert bench.contactor()[-1] == (pytest.approx(0.503 + 0.5 + OPERATE_S), True)
        assert bench.io.contactor_aux() is True
    else:
        assert bench.contactor()[-1][1] is False and bench.io.contactor_aux() is False


# -- a stalled control loop -------------------------------------------------------------------
def test_no_kicks_drop_the_contactors_and_the_next_kick_re_arms_the_watchdog() -> None:
    bench = Bench()
    for sid in (1, 2):
        bench.drivers.station(sid).io.set_contactor(True)
    bench.run(1.0)
    bench.run(1.3, kick=False)  # last kick at 1.000
    opened = 1.0 + WATCHDOG_S + RELEASE_S
    for sid in (1, 2):
        assert bench.contactor(sid)[-1] == (pytest.approx(opened), False)
    assert not bench.hat.watchdog_alive and bench.io.contactor_aux() is False
    bench.run(1.31)  # the first kick retriggers the monostable; the drive is still on
    assert bench.hat.watchdog_alive
    bench.run(1.4)
    for sid in (1, 2):
        assert bench.contactor(sid)[-1] == (pytest.approx(1.31 + OPERATE_S), True)
    assert bench.io.contactor_aux() is True
