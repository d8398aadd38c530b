"""MCP3208 driver on the simulated bus: wire bytes, one ioctl per burst, decoding, faults."""

from __future__ import annotations

import pytest

from appliance.board import BoardDescription, Scaling
from appliance.drivers.interfaces import BusError
from appliance.drivers.mcp3208 import Mcp3208
from appliance.drivers.spi import SpiPort
from appliance.simulator.clock import SimClock
from appliance.simulator.mcp3208 import SimMcp3208
from appliance.simulator.spi_bus import SimSpiBus
from tests.bus_fixtures import FixedReply

VREF = 4.096


def channel_volts(channel: int, t: float) -> float:
    """A distinct level per channel, rising 20 V/s: a few counts between frames of a burst."""
    return 0.25 + 0.5 * channel + 20.0 * t


def adc_on(bus: SimSpiBus, board: BoardDescription) -> Mcp3208:
    port = SpiPort(
        0, board.adc.spi_cs, board.adc.spi_mode, board.adc.max_speed_hz, bus.spidev_factory, bus.ioctl
    )
    return Mcp3208(port)


@pytest.fixture
def adc(bus: SimSpiBus, board: BoardDescription) -> Mcp3208:
    bus.attach(0, board.adc.spi_cs, SimMcp3208(channel_volts, VREF))
    return adc_on(bus, board)


def test_tx_frames_follow_the_datasheet_layout(adc: Mcp3208, bus: SimSpiBus) -> None:
    for channel in range(8):
        adc.read(channel)
    # start bit = byte 0 bit 2, SGL = bit 1, D2 = bit 0; D1 D0 = byte 1 bits 7 6
    assert [r.tx for r in bus.log] == [
        b"\x06\x00\x00",
        b"\x06\x40\x00",
        b"\x06\x80\x00",
        b"\x06\xc0\x00",
        b"\x07\x00\x00",
        b"\x07\x40\x00",
        b"\x07\x80\x00",
        b"\x07\xc0\x00",
    ]


def test_burst_is_one_message_of_interleaved_frames(
    adc: Mcp3208, bus: SimSpiBus, board: BoardDescription
) -> None:
    channels = [0, 1, 6]
    counts = adc.burst(channels, repeats=3)
    records = list(bus.log)
    assert len({r.message for r in records}) == 1
    assert [r.tx for r in records] == [b"\x06\x00\x00", b"\x06\x40\x00", b"\x07\x80\x00"] * 3
    assert [r.cs_change for r in records] == [True] * 8 + [False]
    assert {(r.mode, r.speed_hz) for r in records} == {(0, board.adc.max_speed_hz)}
    scaling = Scaling(board)
    expected: list[list[int]] = [[], [], []]
    for i, record in enumerate(records):  # each conversion sees the input at its own frame time
        expected[i % 3].append(scaling.counts_from_adc_volts(channel_volts(channels[i % 3], record.t)))
    assert counts == expected
    assert counts[0][0] < counts[0][2]


def test_known_reply_bytes_decode(bus: SimSpiBus, board: BoardDescription) -> None:
    chip = FixedReply(b"\xff\xea\x5c")  # null bit (byte 1 bit 4) low, B11..B8 = 0xA, B7..B0 = 0x5C
    bus.attach(0, board.adc.spi_cs, chip)
    adc = adc_on(bus, board)
    assert adc.read(3) == 0xA5C
    chip.reply = b"\x00\x0f\xff"
    assert adc.burst([0, 7], 2) == [[4095, 4095], [4095, 4095]]


@pytest.mark.parametrize("reply", [b"\xff\xff\xff", b"\x00\x10\x00"])
def test_null_bit_high_is_a_bus_error(bus: SimSpiBus, board: BoardDescription, reply: bytes) -> None:
    bus.attach(0, board.adc.spi_cs, FixedReply(reply))
    adc = adc_on(bus, board)
    with pytest.raises(BusError, match="null bit"):
        adc.read(0)
    with pytest.raises(BusError, match="channel 5: null bit"):
        adc.burst([5], 1)


@pytest.mark.parametrize(("channels", "repeats"), [([8], 1), ([-1], 1), ([], 1), ([0], 0)])
def test_bad_arguments_are_refused_before_the_bus(
    adc: Mcp3208, bus: SimSpiBus, channels: list[int], repeats: int
) -> None:
    with pytest.raises(ValueError):
        adc.burst(channels, repeats)
    assert not bus.log


def test_read_matches_the_board_scaling(adc: Mcp3208, board: BoardDescription, clock: SimClock) -> None:
    clock.advance_to(0.1)
    assert adc.read(2) == Scaling(board).counts_from_adc_volts(channel_volts(2, 0.1))
