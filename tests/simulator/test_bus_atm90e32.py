"""The simulated ATM90E32AS at the frame level: register file, locks, encodings, energy."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.board import load_board
from appliance.simulator.atm90e32 import PhaseQuantities, SimAtm90e32
from appliance.simulator.clock import SimClock

CAL = load_board().meter
EXPORT_I = 2500 / (229.87 * 0.95)
MIXED = PhaseQuantities((229.875, 229.87, 0.0), (31.234, EXPORT_I, 0.0), (0.95, -0.95, 1.0), 50.02, -5.0)
ONE_KW_ON_A = PhaseQuantities((230.0, 230.0, 230.0), (1000 / 230, 0.0, 0.0), (1.0, 1.0, 1.0), 50.0, 30.0)


def write(chip: SimAtm90e32, address: int, value: int, t: float = 0.0) -> None:
    assert chip.frame(address.to_bytes(2, "big") + value.to_bytes(2, "big"), t) == b"\xff" * 4


def read(chip: SimAtm90e32, address: int, t: float = 0.0) -> int:
    rx = chip.frame((0x8000 | address).to_bytes(2, "big") + b"\x00\x00", t)
    assert rx[:2] == b"\xff\xff"
    return int.from_bytes(rx[2:], "big")


def configure(chip: SimAtm90e32, t: float = 0.0) -> None:
    write(chip, 0x7F, 0x55AA, t)
    for address in (0x61, 0x65, 0x69):
        write(chip, address, CAL.ugain, t)
    for address in (0x62, 0x66, 0x6A):
        write(chip, address, CAL.igain, t)
    write(chip, 0x7F, 0x0000, t)
    write(chip, 0x00, 0x0001, t)


def chip_with(source: Callable[[float], PhaseQuantities]) -> SimAtm90e32:
    return SimAtm90e32(source, SimClock(), CAL)


@pytest.fixture
def mixed() -> SimAtm90e32:
    return chip_with(lambda t: MIXED)


def test_power_on_state_reads_no_measurements(mixed: SimAtm90e32) -> None:
    assert read(mixed, 0x00) == 0x0000  # MeterEn
    assert [read(mixed, a) for a in (0xD9, 0xDD, 0xB1, 0xF8, 0x81)] == [0, 0, 0, 0, 0]
    assert (read(mixed, 0x31), read(mixed, 0x32), read(mixed, 0x61)) == (0x0861, 0xC468, 0x8000)


def test_configuration_registers_need_the_unlock_key(mixed: SimAtm90e32) -> None:
    write(mixed, 0x61, 0x1234)
    assert read(mixed, 0x61) == 0x8000
    write(mixed, 0x7F, 0x55AA)
    write(mixed, 0x61, 0x1234)
    write(mixed, 0x7F, 0x0000)
    write(mixed, 0x62, 0x4321)
    assert (read(mixed, 0x61), read(mixed, 0x62)) == (0x1234, 0x8000)
    write(mixed, 0xD9, 0x5555)  # measurement registers are read-only
    assert read(mixed, 0xD9) == 0


def test_soft_reset_needs_its_key_and_restores_defaults(mixed: SimAtm90e32) -> None:
    configure(mixed)
    write(mixed, 0x70, 0x1234)
    assert read(mixed, 0x00) == 0x0001
    write(mixed, 0x70, 0x789A)
    assert (read(mixed, 0x00), read(mixed, 0x61), read(mixed, 0xD9)) == (0x0000, 0x8000, 0)


def test_measurement_encodings(mixed: SimAtm90e32) -> None:
    configure(mixed)
    assert (read(mixed, 0xD9), read(mixed, 0xE9)) == (0x59CB, 0x8000)  # 229.875 V: 22987 + 128/256
    assert (read(mixed, 0xDA), read(mixed, 0xEA)) == (0x59CB, 0x0000)
    assert (read(mixed, 0xDD), read(mixed, 0xED)) == (0x7A02, 0x0000)  # 31.234 A
    assert (read(mixed, 0xB2), read(mixed, 0xC2)) == (0xFF88, 0xCA6C)  # -2500 W = -7812500 LSB
    assert (read(mixed, 0xBD), read(mixed, 0xBE), read(mixed, 0xBF)) == (950, 0xFC4A, 1000)
    assert read(mixed, 0xF8) == 5002  # 50.02 Hz
    assert read(mixed, 0xFC) == 0xFFFB  # -5 degC


def test_uncalibrated_gains_read_wrong(mixed: SimAtm90e32) -> None:
    write(mixed, 0x00, 0x0001)  # enabled, reset gains 0x8000 instead of the board's 0xA028
    volts = (read(mixed, 0xD9) * 256 + (read(mixed, 0xE9) >> 8)) * 0.01 / 256
    assert volts == pytest.approx(229.875 * 0x8000 / CAL.ugain, abs=1e-4)


def test_energy_counts_and_clears_on_read() -> None:
    chip = chip_with(lambda t: ONE_KW_ON_A)
    configure(chip)
    assert read(chip, 0x81, 360.0) == 10_000  # 100 Wh in 0.01 Wh steps
    assert read(chip, 0x81, 360.0) == 0
    assert (read(chip, 0x82, 360.0), read(chip, 0x83, 360.0)) == (0, 0)


def test_energy_saturates_without_losing_the_rest() -> None:
    chip = chip_with(lambda t: ONE_KW_ON_A)
    configure(chip)
    assert read(chip, 0x81, 3600.0) == 0xFFFF
    assert read(chip, 0x81, 3600.0) == 100_000 - 0xFFFF


def test_energy_lsb_follows_the_meter_constant() -> None:
    chip = chip_with(lambda t: ONE_KW_ON_A)
    configure(chip)
    write(chip, 0x7F, 0x55AA)
    write(chip, 0x31, (2 * CAL.pl_constant) >> 16)
    write(chip, 0x32, (2 * CAL.pl_constant) & 0xFFFF)
    assert read(chip, 0x81, 360.0) == 5_000


def test_no_energy_while_disabled() -> None:
    chip = chip_with(lambda t: ONE_KW_ON_A)
    configure(chip)
    write(chip, 0x00, 0x0000, 100.0)
    write(chip, 0x00, 0x0001, 3000.0)
    assert read(chip, 0x81, 3260.0) == 10_000  # 100 s + 260 s enabled


def test_high_and_low_power_words_come_from_one_snapshot() -> None:
    def rising(t: float) -> PhaseQuantities:
        return PhaseQuantities((230.0,) * 3, (10.0 + 1000.0 * t,) * 3, (1.0,) * 3, 50.0, 30.0)

    chip = chip_with(rising)
    configure(chip)
    high, low = read(chip, 0xB1, 0.001), read(chip, 0xC1, 0.0012)
    assert ((high << 16) | low) * 0.00032 == pytest.approx(230.0 * 11.0, abs=0.00032)


def test_lost_chip_floats_and_comes_back_reset(mixed: SimAtm90e32) -> None:
    configure(mixed)
    mixed.lose()
    assert mixed.frame(b"\x80\x00\x00\x00", 0.0) == b"\xff\xff\xff\xff"
    write_frame = b"\x00\x00\x00\x01"
    assert mixed.frame(write_frame, 0.0) == b"\xff" * 4
    mixed.restore()
    assert (read(mixed, 0x00), read(mixed, 0x61), read(mixed, 0xD9)) == (0x0000, 0x8000, 0)


def test_only_mode_3_is_understood(mixed: SimAtm90e32) -> None:
    frame = b"\x80\x31\x00\x00"
    assert mixed.exchange(frame, 0.0, mode=3, speed_hz=200_000) == b"\xff\xff\x08\x61"
    assert mixed.exchange(frame, 0.0, mode=0, speed_hz=200_000) == b"\xff\xff\x84\x30"
