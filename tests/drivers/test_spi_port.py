"""SpiPort: the spi_ioc_transfer layout, the request number, one ioctl per burst, errors."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from appliance.drivers.interfaces import BusError
from appliance.drivers.spi import SpiIocTransfer, SpiPort, spi_ioc_message
from appliance.simulator.clock import SimClock
from appliance.simulator.spi_bus import CS_GAP_S, SimSpiBus, SimSpiDev, SpiChip


class Inverter(SpiChip):
    """Answers each byte inverted, so every reply byte is traceable to its frame."""

    spi_modes = frozenset({0, 1, 2, 3})

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def frame(self, tx: bytes, t: float) -> bytes:
        self.frames.append(tx)
        return bytes(b ^ 0xFF for b in tx)


class CountingIoctl:
    """Passes every call to the simulated kernel and remembers what it was given."""

    def __init__(self, bus: SimSpiBus) -> None:
        self._bus = bus
        self.calls: list[tuple[int, int, int]] = []  # (fd, request, address of the array)

    def __call__(self, fd: int, request: int, arg: Any) -> int:
        self.calls.append((fd, request, ctypes.addressof(arg)))
        return self._bus.ioctl(fd, request, arg)


@pytest.fixture
def chip(bus: SimSpiBus) -> Inverter:
    chip = Inverter()
    bus.attach(0, 1, chip)
    return chip


@pytest.fixture
def ioctl(bus: SimSpiBus) -> CountingIoctl:
    return CountingIoctl(bus)


@pytest.fixture
def port(bus: SimSpiBus, chip: Inverter, ioctl: CountingIoctl) -> SpiPort:
    return SpiPort(0, 1, 3, 500_000, bus.spidev_factory, ioctl)


def test_transfer_struct_matches_linux_spidev_h() -> None:
    assert ctypes.sizeof(SpiIocTransfer) == 32
    offsets = {name: getattr(SpiIocTransfer, name).offset for name, *_ in SpiIocTransfer._fields_}
    assert offsets == {
        "tx_buf": 0,
        "rx_buf": 8,
        "len": 16,
        "speed_hz": 20,
        "delay_usecs": 24,
        "bits_per_word": 26,
        "cs_change": 27,
        "tx_nbits": 28,
        "rx_nbits": 29,
        "word_delay_usecs": 30,
        "pad": 31,
    }


def test_request_number_is_iow_k_0_with_the_array_size() -> None:
    assert spi_ioc_message(1) == 0x40206B00  # as strace shows SPI_IOC_MESSAGE(1)
    assert spi_ioc_message(2) == 0x40406B00
    assert spi_ioc_message(24) == 0x43006B00
    assert spi_ioc_message(511) == 0x7FE06B00
    for bad in (0, 512):
        with pytest.raises(ValueError):
            spi_ioc_message(bad)


def test_burst_is_one_ioctl_with_cs_released_between_frames(
    port: SpiPort, bus: SimSpiBus, chip: Inverter, ioctl: CountingIoctl
) -> None:
    frames = [b"\x01\x02\x03", b"\x10\x20\x30", b"\xa0\xb0\xc0\xd0"]
    replies = port.transfer_frames(frames)
    assert replies == [b"\xfe\xfd\xfc", b"\xef\xdf\xcf", b"\x5f\x4f\x3f\x2f"]
    assert len(ioctl.calls) == 1
    fd, request, _ = ioctl.calls[0]
    assert fd >= 1000 and request == spi_ioc_message(3)
    assert chip.frames == frames  # three CS frames, not one joined frame
    records = list(bus.log)
    assert [r.tx for r in records] == frames
    assert {r.message for r in records} == {records[0].message}
    assert [r.cs_change for r in records] == [True, True, False]
    assert {(r.bus, r.cs, r.mode, r.speed_hz) for r in records} == {(0, 1, 3, 500_000)}


def test_frames_are_timed_at_the_configured_clock_rate(
    port: SpiPort, bus: SimSpiBus, clock: SimClock
) -> None:
    clock.advance_to(2.0)
    port.transfer_frames([b"\x00" * 4, b"\x00" * 4])
    first, second = bus.log
    assert first.t == pytest.approx(2.0)
    assert second.t == pytest.approx(2.0 + 32 / 500_000 + CS_GAP_S)


def test_buffers_are_reused_for_the_same_burst_shape(port: SpiPort, ioctl: CountingIoctl) -> None:
    port.transfer_frames([b"\x01\x02", b"\x03\x04"])
    port.transfer_frames([b"\x05\x06", b"\x07\x08"])
    port.transfer_frames([b"\x05\x06\x07"])
    first, second, third = (address for _, _, address in ioctl.calls)
    assert first == second != third


def test_single_frame_goes_through_xfer2_with_cs_held(port: SpiPort, bus: SimSpiBus, chip: Inverter) -> None:
    assert port.transfer(b"\x0f\xf0") == b"\xf0\x0f"
    (record,) = bus.log
    assert (record.tx, record.cs_change, record.mode, record.speed_hz) == (b"\x0f\xf0", False, 3, 500_000)


def test_failed_ioctl_is_a_bus_error(port: SpiPort, bus: SimSpiBus) -> None:
    bus.inject_error(1, until_t=1.0)
    with pytest.raises(BusError, match=r"spidev0\.1.*SPI_IOC_MESSAGE\(1\).*Input/output error"):
        port.transfer_frames([b"\x00"])
    with pytest.raises(BusError, match="Input/output error"):
        port.transfer(b"\x00")


def test_short_transfer_count_is_a_bus_error(bus: SimSpiBus, chip: Inverter) -> None:
    def short_ioctl(fd: int, request: int, arg: Any) -> int:
        return bus.ioctl(fd, request, arg) - 1

    port = SpiPort(0, 1, 0, 1_000_000, bus.spidev_factory, short_ioctl)
    with pytest.raises(BusError, match="moved 5 bytes, expected 6"):
        port.transfer_frames([b"\x00" * 3, b"\x00" * 3])


def test_replies_the_kernel_did_not_write_read_as_no_chip(bus: SimSpiBus, chip: Inverter) -> None:
    port = SpiPort(0, 1, 0, 1_000_000, bus.spidev_factory, lambda fd, request, arg: 2)
    port.transfer_frames([b"\x00\x00"])
    assert port.transfer_frames([b"\x00\x00"]) == [b"\xff\xff"]


def test_missing_device_is_a_bus_error(bus: SimSpiBus) -> None:
    with pytest.raises(BusError, match=r"/dev/spidev0\.3: cannot open"):
        SpiPort(0, 3, 0, 1_000_000, bus.spidev_factory, bus.ioctl)


def test_bursts_beyond_the_kernel_limits_are_refused(port: SpiPort) -> None:
    with pytest.raises(ValueError):
        port.transfer_frames([])
    with pytest.raises(ValueError):
        port.transfer_frames([b""])
    with pytest.raises(ValueError, match="bufsiz"):
        port.transfer_frames([b"\x00" * 1025] * 4)


def test_short_xfer2_reply_is_a_bus_error(bus: SimSpiBus, chip: Inverter) -> None:
    class ShortReply(SimSpiDev):
        def xfer2(self, values: list[int], *args: int) -> list[int]:
            return super().xfer2(values)[:-1]

    port = SpiPort(0, 1, 0, 1_000_000, lambda: ShortReply(bus), bus.ioctl)
    with pytest.raises(BusError, match="sent 3 bytes, got 2 back"):
        port.transfer(b"\x01\x02\x03")
