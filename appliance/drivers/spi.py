"""SPI access through Linux spidev: single frames via xfer2, bursts via one SPI_IOC_MESSAGE.

A burst of many short frames (ADC conversions, meter registers) must toggle chip select
between frames, which `xfer2` cannot do. The kernel's `SPI_IOC_MESSAGE(n)` ioctl takes an
array of `struct spi_ioc_transfer` (linux/spi/spidev.h) and runs all of them in one system
call, each with its own `cs_change`: one context switch per burst instead of one per frame.
"""

from __future__ import annotations

import ctypes
import fcntl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import spidev

from appliance.drivers.interfaces import BusError


class SpiDevLike(Protocol):
    """The part of `spidev.SpiDev` the port uses (the simulator provides the same)."""

    mode: int
    max_speed_hz: int

    def open(self, bus: int, device: int) -> None: ...

    def fileno(self) -> int: ...

    def xfer2(self, values: list[int]) -> list[int]: ...


IoctlFn = Callable[[int, int, Any], int]


class SpiIocTransfer(ctypes.Structure):
    """`struct spi_ioc_transfer`: 32 bytes, the same layout for 32- and 64-bit user space."""

    _fields_ = [
        ("tx_buf", ctypes.c_uint64),
        ("rx_buf", ctypes.c_uint64),
        ("len", ctypes.c_uint32),
        ("speed_hz", ctypes.c_uint32),
        ("delay_usecs", ctypes.c_uint16),
        ("bits_per_word", ctypes.c_uint8),
        ("cs_change", ctypes.c_uint8),
        ("tx_nbits", ctypes.c_uint8),
        ("rx_nbits", ctypes.c_uint8),
        ("word_delay_usecs", ctypes.c_uint8),
        ("pad", ctypes.c_uint8),
    ]


# asm-generic/ioctl.h (ARM and x86; not MIPS/PowerPC/SPARC, which use other bit widths)
_IOC_WRITE = 1
_IOC_SIZEBITS = 14
_IOC_TYPESHIFT = 8
_IOC_SIZESHIFT = 16
_IOC_DIRSHIFT = 30
SPI_IOC_MAGIC = ord("k")

# spidev's default `bufsiz` module parameter: the most bytes one message may move each way.
SPIDEV_BUFSIZ = 4096


def spi_ioc_message(n: int) -> int:
    """The request number `SPI_IOC_MESSAGE(n)` = `_IOW('k', 0, char[n * 32])`."""
    size = n * ctypes.sizeof(SpiIocTransfer)
    if n < 1 or size >= 1 << _IOC_SIZEBITS:
        raise ValueError(f"SPI_IOC_MESSAGE takes 1..{((1 << _IOC_SIZEBITS) - 1) // 32} transfers, not {n}")
    return (_IOC_WRITE << _IOC_DIRSHIFT) | (size << _IOC_SIZESHIFT) | (SPI_IOC_MAGIC << _IOC_TYPESHIFT)


@dataclass
class _Message:
    """Preallocated transfer array and buffers for one burst shape (the control loop reuses them)."""

    request: int
    transfers: ctypes.Array[SpiIocTransfer]
    tx: ctypes.Array[ctypes.c_char]
    rx: ctypes.Array[ctypes.c_char]
    spans: list[tuple[int, int]]


class SpiPort:
    """One chip select on a spidev bus, opened and configured for one chip."""

    _MAX_SHAPES = 16

    def __init__(
        self,
        bus: int,
        cs: int,
        mode: int,
        max_speed_hz: int,
        spidev_factory: Callable[[], SpiDevLike] = spidev.SpiDev,
        ioctl: IoctlFn = fcntl.ioctl,
    ) -> None:
        self.bus = bus
        self.cs = cs
        self.mode = mode
        self.max_speed_hz = max_speed_hz
        self._ioctl = ioctl
        self._messages: dict[tuple[int, ...], _Message] = {}
        self._dev = spidev_factory()
        try:
            self._dev.open(bus, cs)
            self._dev.mode = mode
            self._dev.max_speed_hz = max_speed_hz
        except OSError as e:
            raise BusError(f"{self.name}: cannot open and configure: {e}") from e
        self._fd = self._dev.fileno()

    @property
    def name(self) -> str:
        return f"/dev/spidev{self.bus}.{self.cs}"

    def transfer(self, frame: bytes) -> bytes:
        """One frame with chip select held for all of it."""
        try:
            reply = self._dev.xfer2(list(frame))
        except OSError as e:
            raise BusError(f"{self.name}: transfer failed: {e}") from e
        if len(reply) != len(frame):
            raise BusError(f"{self.name}: sent {len(frame)} bytes, got {len(reply)} back")
        return bytes(reply)

    def transfer_frames(self, frames: Sequence[bytes]) -> list[bytes]:
        """All `frames` in one SPI_IOC_MESSAGE, chip select released between them."""
        shape = tuple(len(f) for f in frames)
        msg = self._messages.get(shape) or self._prepare(shape)
        tx = ctypes.addressof(msg.tx)
        for (start, end), frame in zip(msg.spans, frames, strict=True):
            ctypes.memmove(tx + start, frame, end - start)
        # A reply the kernel did not write must not pass as data: 0xFF reads as "no chip".
        ctypes.memset(msg.rx, 0xFF, len(msg.rx))
        try:
            moved = self._ioctl(self._fd, msg.request, msg.transfers)
        except OSError as e:
            raise BusError(f"{self.name}: SPI_IOC_MESSAGE({len(frames)}) failed: {e}") from e
        if moved != len(msg.rx):
            raise BusError(f"{self.name}: SPI_IOC_MESSAGE moved {moved} bytes, expected {len(msg.rx)}")
        raw = msg.rx.raw
        return [raw[start:end] for start, end in msg.spans]


    def _prepare(self, shape: tuple[int, ...]) -> _Message:
        if not shape or min(shape) < 1:
            raise ValueError("a burst needs at least one frame and no empty frames")
        total = sum(shape)
        if total > SPIDEV_BUFSIZ:
            raise ValueError(f"a burst moves at most {SPIDEV_BUFSIZ} bytes (spidev bufsiz), not {total}")
        request = spi_ioc_message(len(shape))
        tx = ctypes.create_string_buffer(total)
        rx = ctypes.create_string_buffer(total)
        transfers = (SpiIocTransfer * len(shape))()
        spans = []
        offset = 0
        for i, length in enumerate(shape):
            t = transfers[i]
            t.tx_buf = ctypes.addressof(tx) + offset
            t.rx_buf = ctypes.addressof(rx) + offset
            t.len = length
            t.speed_hz = self.max_speed_hz
            t.bits_per_word = 8
            # Release CS between frames; not after the last one, where the kernel would
            # read cs_change as "keep this chip selected until the next message".
            t.cs_change = 1 if i < len(shape) - 1 else 0
            spans.append((offset, offset + length))
            offset += length
        if len(self._messages) >= self._MAX_SHAPES:
            self._messages.clear()
        msg = _Message(request, transfers, tx, rx, spans)
        self._messages[shape] = msg
        return msg
