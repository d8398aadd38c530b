"""The simulated MCP3208 decodes frames bit by bit as the datasheet describes."""

from __future__ import annotations

import pytest

from appliance.simulator.mcp3208 import SimMcp3208

VREF = 4.096
LEVELS = [0.0, 0.5, 1.0, 1.5, 2.0, 2.6525, 3.0, 4.0]  # CH0..CH7; 2.6525 V -> 0xA5C


class Inputs:
    def __init__(self) -> None:
        self.calls: list[tuple[int, float]] = []

    def __call__(self, channel: int, t: float) -> float:
        self.calls.append((channel, t))
        return LEVELS[channel]


@pytest.fixture
def inputs() -> Inputs:
    return Inputs()


@pytest.fixture
def adc(inputs: Inputs) -> SimMcp3208:
    return SimMcp3208(inputs, VREF)


@pytest.mark.parametrize("channel", range(8))
def test_single_ended_reply_layout_for_every_channel(adc: SimMcp3208, inputs: Inputs, channel: int) -> None:
    rx = adc.frame(bytes((0x06 | channel >> 2, (channel & 3) << 6, 0)), t=1.5)
    counts = min(4095, int(LEVELS[channel] / VREF * 4096))
    assert rx[0] == 0xFF  # DOUT high-impedance while the command is clocked in
    assert rx[1] >> 5 == 0b111 and rx[1] & 0x10 == 0  # ... and the null bit before B11
    assert ((rx[1] & 0x0F) << 8) | rx[2] == counts
    assert inputs.calls == [(channel, 1.5)]


def test_known_conversion_bytes(adc: SimMcp3208) -> None:
    assert adc.frame(b"\x06\x40\x00", 0.0) == b"\xff\xe1\xf4"  # CH1 0.5 V -> 500 = 0x1F4
    assert adc.frame(b"\x07\x40\x00", 0.0) == b"\xff\xea\x5c"  # CH5 -> 0xA5C


def test_pseudo_differential_pairs(adc: SimMcp3208) -> None:
    def diff(code: int) -> int:
        rx = adc.frame(bytes((0x04 | code >> 2, (code & 3) << 6, 0)), 0.0)
        return ((rx[1] & 0x0F) << 8) | rx[2]

    assert diff(0b011) == 500  # CH3+ CH2-: 1.5 V - 1.0 V
    assert diff(0b010) == 0  # CH2+ CH3-: negative reads 0
    assert diff(0b111) == 1000  # CH7+ CH6-: 4.0 V - 3.0 V
    assert diff(0b110) == 0


def test_start_bit_may_come_later(adc: SimMcp3208) -> None:
    channel = 5
    rx = adc.frame(bytes((0x01, 0x80 | channel << 4, 0x00)), 0.0)  # start at clock 7
    assert rx[1] & 0xFC == 0xF8  # five high-Z clocks, then the null bit
    assert ((rx[1] & 0x03) << 8) | rx[2] == 0xA5C >> 2  # B11..B2 fit in the frame


def test_further_clocks_repeat_the_result_lsb_first(adc: SimMcp3208) -> None:
    rx = adc.frame(b"\x07\x40\x00\x00\x00", 0.0)  # CH5 = 0xA5C = 1010 0101 1100
    assert rx[3] == 0b0111_0100  # B1..B8
    assert rx[4] == 0b1010_0000  # B9 B10 B11, then zeros


@pytest.mark.parametrize(
    ("volts", "counts"), [(-0.5, 0), (5.0, 4095), (VREF * 1000.9 / 4096, 1000), (VREF * 999.99 / 4096, 999)]
)
def test_conversion_floors_and_clips(volts: float, counts: int) -> None:
    adc = SimMcp3208(lambda ch, t: volts, VREF)
    rx = adc.frame(b"\x06\x00\x00", 0.0)
    assert ((rx[1] & 0x0F) << 8) | rx[2] == counts


def test_no_start_bit_leaves_dout_floating(adc: SimMcp3208, inputs: Inputs) -> None:
    assert adc.frame(b"\x00\x00\x00", 0.0) == b"\xff\xff\xff"
    assert adc.frame(b"\x00\x00\x03", 0.0) == b"\xff\xff\xff"  # start bit too late to finish a command
    assert inputs.calls == []


def test_modes_0_and_3_work_modes_1_and_2_give_garbage(adc: SimMcp3208) -> None:
    good = adc.exchange(b"\x07\x40\x00", 0.0, mode=0, speed_hz=1_000_000)
    assert adc.exchange(b"\x07\x40\x00", 0.0, mode=3, speed_hz=1_000_000) == good
    for mode in (1, 2):
        assert adc.exchange(b"\x07\x40\x00", 0.0, mode=mode, speed_hz=1_000_000) != good
    assert adc.exchange(b"\x07\x40\x00", 0.0, mode=0, speed_hz=3_000_000) != good
