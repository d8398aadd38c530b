"""The simulated SPI controller: spidev look-alike, kernel-side decoding of SPI_IOC_MESSAGE, timing, modes."""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import termios

import pytest
import spidev

from appliance.simulator.clock import SimClock
from appliance.simulator.spi_bus import CS_GAP_S, SimSpiBus, SimSpiDev, SpiChip

MESSAGE_2 = 0x40406B00  # SPI_IOC_MESSAGE(2) on ARM/x86


class Mode3Chip(SpiChip):
    """Answers 0x0F 0xF0 ... to everything; speaks mode 3 up to 1 MHz."""

    spi_modes = frozenset({3})
    max_speed_hz = 1_000_000

    def __init__(self) -> None:
        self.frames: list[tuple[bytes, float]] = []

    def frame(self, tx: bytes, t: float) -> bytes:
        self.frames.append((tx, t))
        return (b"\x0f\xf0" * len(tx))[: len(tx)]


class Buffers:
    """User-space memory for one message, laid out by hand as linux/spi/spidev.h says."""

    def __init__(self, *frames: bytes) -> None:
        self.tx = [ctypes.create_string_buffer(f, len(f)) for f in frames]
        self.rx = [ctypes.create_string_buffer(len(f)) for f in frames]

    def array(
        self,
        speed_hz: int = 0,
        cs_change: tuple[int, ...] = (1, 0),
        delay_us: int = 0,
        bits: int = 8,
        tx_null: bool = False,
    ) -> bytearray:
        return bytearray(
            b"".join(
                struct.pack(
                    "=QQIIHBBBBBB",
                    0 if tx_null else ctypes.addressof(tx),
                    ctypes.addressof(rx),
                    len(rx),
                    speed_hz,
                    delay_us,
                    bits,
                    change,
                    0,
                    0,
                    0,
                    0,
                )
                for tx, rx, change in zip(self.tx, self.rx, cs_change, strict=True)
            )
        )

    def replies(self) -> list[bytes]:
        return [rx.raw for rx in self.rx]


@pytest.fixture
def chip(bus: SimSpiBus) -> Mode3Chip:
    chip = Mode3Chip()
    bus.attach(0, 1, chip)
    return chip


@pytest.fixture
def dev(bus: SimSpiBus, chip: Mode3Chip) -> SimSpiDev:
    dev = bus.spidev_factory()
    dev.open(0, 1)
    dev.mode = 3
    dev.max_speed_hz = 500_000
    return dev


def test_spidev_look_alike(bus: SimSpiBus, chip: Mode3Chip) -> None:
    real, dev = spidev.SpiDev(), bus.spidev_factory()
    for name in ("open", "close", "fileno", "xfer2", "mode", "max_speed_hz", "bits_per_word"):
        assert hasattr(real, name) and hasattr(dev, name)
    assert dev.fileno() == -1
    dev.open(0, 1)
    assert dev.fileno() >= 1000
    with pytest.raises(TypeError):
        dev.mode = 4
    dev.close()
    assert dev.fileno() == -1
    with pytest.raises(FileNotFoundError):
        bus.spidev_factory().open(0, 2)


def test_message_is_decoded_from_memory_like_the_kernel(
    bus: SimSpiBus, chip: Mode3Chip, dev: SimSpiDev
) -> None:
    buffers = Buffers(b"\x80\x01", b"\x12\x34\x56")
    assert bus.ioctl(dev.fileno(), MESSAGE_2, buffers.array()) == 5
    assert [tx for tx, _ in chip.frames] == [b"\x80\x01", b"\x12\x34\x56"]
    assert buffers.replies() == [b"\x0f\xf0", b"\x0f\xf0\x0f"]


def test_transfers_without_cs_change_are_one_frame(bus: SimSpiBus, chip: Mode3Chip, dev: SimSpiDev) -> None:
    buffers = Buffers(b"\x80\x01", b"\x12\x34\x56")
    bus.ioctl(dev.fileno(), MESSAGE_2, buffers.array(cs_change=(0, 0)))
    assert [tx for tx, _ in chip.frames] == [b"\x80\x01\x12\x34\x56"]
    assert buffers.replies() == [b"\x0f\xf0", b"\x0f\xf0\x0f"]


def test_null_tx_buffer_clocks_out_zeros(bus: SimSpiBus, chip: Mode3Chip, dev: SimSpiDev) -> None:
    bus.ioctl(dev.fileno(), MESSAGE_2, Buffers(b"\xff", b"\xff").array(tx_null=True))
    assert [tx for tx, _ in chip.frames] == [b"\x00", b"\x00"]


def test_frame_times_follow_bit_time_gaps_and_bus_occupancy(
    bus: SimSpiBus, chip: Mode3Chip, dev: SimSpiDev, clock: SimClock
) -> None:
    clock.advance_to(10.0)
    bus.ioctl(dev.fileno(), MESSAGE_2, Buffers(b"\x00\x00", b"\x00").array(speed_hz=250_000, delay_us=5))
    dev.xfer2([0])  # same clock time: queued behind the message
    t1 = 10.0
    t2 = t1 + 16 / 250_000 + 5e-6 + CS_GAP_S
    t3 = t2 + 8 / 250_000 + 5e-6 + CS_GAP_S
    assert [t for _, t in chip.frames] == pytest.approx([t1, t2, t3])
    assert [r.speed_hz for r in bus.log] == [250_000, 250_000, 500_000]  # 0 = the device's max_speed_hz


@pytest.mark.parametrize(
    ("request_", "array", "code"),
    [
        (0x40406B01, Buffers(b"\x00", b"\x00").array(), errno.ENOTTY),  # another spidev ioctl
        (0x40306B00, bytearray(48), errno.EINVAL),  # size not a multiple of the struct
        (MESSAGE_2, Buffers(b"\x00", b"\x00").array(bits=16), errno.EINVAL),
        (MESSAGE_2, bytearray(32), errno.EFAULT),  # array shorter than the request says
    ],
)
def test_malformed_requests_fail_like_the_kernel(
    bus: SimSpiBus, dev: SimSpiDev, request_: int, array: bytearray, code: int
) -> None:
    with pytest.raises(OSError) as failure:
        bus.ioctl(dev.fileno(), request_, array)
    assert failure.value.errno == code


def test_messages_beyond_spidev_bufsiz_are_refused(bus: SimSpiBus, dev: SimSpiDev) -> None:
    with pytest.raises(OSError) as failure:
        bus.ioctl(dev.fileno(), MESSAGE_2, Buffers(b"\x00" * 2048, b"\x00" * 2049).array())
    assert failure.value.errno == errno.EMSGSIZE


def test_other_descriptors_go_to_the_real_ioctl(bus: SimSpiBus) -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"abc")
        pending = bytearray(4)
        bus.ioctl(read_end, termios.FIONREAD, pending)
        assert int.from_bytes(pending, "little") == 3
    finally:
        os.close(read_end)
        os.close(write_end)


def test_wrong_mode_or_speed_reads_garbage(bus: SimSpiBus, chip: Mode3Chip, dev: SimSpiDev) -> None:
    assert dev.xfer2([0x80, 0x01]) == [0x0F, 0xF0]
    dev.mode = 0  # same sampling edge, wrong idle level: the chip's answer comes one clock late
    assert dev.xfer2([0x80, 0x01]) == [0x87, 0xF8]
    dev.mode = 1  # wrong edge: each side also reads the other one bit late
    assert dev.xfer2([0x80, 0x01]) == [0x87, 0xF8]
    dev.mode, dev.max_speed_hz = 3, 2_000_000
    assert dev.xfer2([0x80, 0x01]) == [0x87, 0xF8]
    assert [tx for tx, _ in chip.frames] == [b"\x80\x01", b"\x80\x01", b"\x40\x00", b"\x40\x00"]


def test_log_is_bounded(clock: SimClock, chip: Mode3Chip) -> None:
    bus = SimSpiBus(clock, log_size=3)
    bus.attach(0, 1, chip)
    dev = bus.spidev_factory()
    dev.open(0, 1)
    for value in range(10):
        dev.xfer2([value])
    assert [r.tx for r in bus.log] == [b"\x07", b"\x08", b"\x09"]
