"""A simulated SPI controller with spidev's user-space interface.

`SimSpiBus.spidev_factory` stands in for `spidev.SpiDev` and `SimSpiBus.ioctl` for
`fcntl.ioctl`: the driver builds its real `struct spi_ioc_transfer` array in memory and
this module decodes it from the raw bytes (own layout, per linux/spi/spidev.h), reads the
TX buffers and writes the RX buffers through the pointers, as the kernel does. So the
drivers' byte and pointer handling runs in every test.

Each CS-asserted frame goes to the chip model at that chip select with the simulated time
at which it is clocked: the clock's time (or the end of the previous bus activity) plus
bit time at the transfer's speed and the gap between frames.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import itertools
import os
import struct
import threading
from abc import ABC, abstractmethod
from collections import deque
from dataclasses import dataclass
from typing import Any, NamedTuple

from appliance.clock import Clock

_TRANSFER = struct.Struct("=QQIIHBBBBBB")  # struct spi_ioc_transfer, 32 bytes
_SPI_IOC_MAGIC = ord("k")
_IOC_WRITE = 1
_SPIDEV_BUFSIZ = 4096
_SPIDEV_DEFAULT_SPEED_HZ = 125_000_000  # spi-max-frequency of the Pi's spidev nodes
CS_GAP_S = 10e-6  # the kernel's default delay after a cs_change
FIRST_FD = 1000  # simulated descriptors never collide with real ones


def _samples_on_rising_edge(mode: int) -> bool:
    """Modes 0 and 3 sample on the rising clock edge, modes 1 and 2 on the falling one."""
    return mode in (0, 3)


def _one_bit_late(data: bytes, first_bit: int) -> bytes:
    """The bit stream as seen one clock late: what a receiver sampling on the wrong edge gets."""
    bits = len(data) * 8
    value = (int.from_bytes(data, "big") >> 1) | (first_bit << (bits - 1))
    return value.to_bytes(len(data), "big")


class SpiChip(ABC):
    """A chip model behind one chip select: what it answers to one CS-asserted frame."""

    spi_modes: frozenset[int] = frozenset({0})
    max_speed_hz: int = 1_000_000

    @abstractmethod
    def frame(self, tx: bytes, t: float) -> bytes:
        """The chip's MISO bytes for MOSI `tx` clocked in at simulated time `t`."""

    def exchange(self, tx: bytes, t: float, mode: int, speed_hz: int) -> bytes:
        """`frame`, with the garbage a wrong SPI mode or an overclocked bus gives.

        With the wrong sampling edge both sides read each other one bit late; with the right
        edge but the wrong idle level (mode 0 vs 3 for a chip that only speaks one) the chip
        shifts its first bit out one clock late. Too fast a clock is modelled as a wrong edge.
        """
        if mode in self.spi_modes and speed_hz <= self.max_speed_hz:
            return self.frame(tx, t)
        chip_edge = _samples_on_rising_edge(min(self.spi_modes))
        if speed_hz <= self.max_speed_hz and _samples_on_rising_edge(mode) == chip_edge:
            return _one_bit_late(self.frame(tx, t), 1)
        return _one_bit_late(self.frame(_one_bit_late(tx, 0), t), 1)


class SpiRecord(NamedTuple):
    """One transfer as it went over the wire."""

    t: float
    bus: int
    cs: int
    mode: int
    speed_hz: int
    tx: bytes
    rx: bytes
    message: int  # transfers of one system call share this number
    cs_change: bool


@dataclass
class _Transfer:
    tx: bytes
    speed_hz: int
    delay_us: int
    cs_change: bool


@dataclass
class _Faults:
    error_until: float = float("-inf")
    stuck: bool = False
    disconnected: bool = False
    last_reply: bytes = b""


class SimSpiDev:
    """`spidev.SpiDev` look-alike on a simulated bus."""

    def __init__(self, bus: SimSpiBus) -> None:
        self._bus = bus
        self._fd = -1
        self.bus = -1
        self.cs = -1
        self._mode = 0
        self.max_speed_hz = _SPIDEV_DEFAULT_SPEED_HZ
        self.bits_per_word = 8

    @property
    def mode(self) -> int:
        return self._mode

    @mode.setter
    def mode(self, value: int) -> None:
        if value not in (0, 1, 2, 3):
            raise TypeError("The mode attribute must be an integer between 0 and 3.")
        self._mode = value

    def open(self, bus: int, device: int) -> None:
        self._fd = self._bus._open(self, bus, device)
        self.bus, self.cs = bus, device

    def close(self) -> None:
        if self._fd >= 0:
            self._bus._close(self._fd)
        self._fd = -1

    def fileno(self) -> int:
        return self._fd

    def xfer2(
        self, values: list[int], speed_hz: int = 0, delay_usecs: int = 0, bits_per_word: int = 0
    ) -> list[int]:
        if self._fd < 0:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        transfer = _Transfer(bytes(values), speed_hz or self.max_speed_hz, delay_usecs, False)
        return list(self._bus._run(self, [transfer])[0])


class SimSpiBus:
    """Chip models by (bus, chip select), the spidev/ioctl entry points and fault injection."""

    def __init__(self, clock: Clock, log_size: int = 4096) -> None:
        self._clock = clock
        self._chips: dict[tuple[int, int], SpiChip] = {}
        self._faults: dict[tuple[int, int], _Faults] = {}
        self._devices: dict[int, SimSpiDev] = {}
        self._fds = itertools.count(FIRST_FD)
        self._messages = itertools.count(1)
        self._busy_until = float("-inf")
        self._lock = threading.RLock()
        self.log: deque[SpiRecord] = deque(maxlen=log_size)

    # -- wiring -------------------------------------------------------------------------
    def attach(self, bus: int, cs: int, chip: SpiChip) -> None:
        self._chips[(bus, cs)] = chip
        self._faults[(bus, cs)] = _Faults()

    def spidev_factory(self) -> SimSpiDev:
        return SimSpiDev(self)

    # -- fault injection ----------------------------------------------------------------
    def inject_error(self, cs: int, until_t: float, bus: int = 0) -> None:
        """Transfers to this chip fail with EIO until simulated time `until_t`."""
        with self._lock:
            self._faults[(bus, cs)].error_until = until_t

    def stuck(self, cs: int, on: bool = True, bus: int = 0) -> None:
        """The chip repeats its last reply, whatever it is asked."""
        with self._lock:
            self._faults[(bus, cs)].stuck = on

    def disconnect(self, cs: int, on: bool = True, bus: int = 0) -> None:
        """The chip is gone: MISO floats high and reads 0xFF."""
        with self._lock:
            self._faults[(bus, cs)].disconnected = on

    # -- the kernel side ----------------------------------------------------------------
    def ioctl(self, fd: int, request: int, arg: Any = 0, mutate_flag: bool = True) -> Any:
        """`fcntl.ioctl` with SPI_IOC_MESSAGE(n) served on simulated descriptors."""
        dev = self._devices.get(fd)
        if dev is None:
            return fcntl.ioctl(fd, request, arg, mutate_flag)
        direction, size = request >> 30, (request >> 16) & 0x3FFF
        if request & 0xFFFF != _SPI_IOC_MAGIC << 8 or direction != _IOC_WRITE:
            raise OSError(errno.ENOTTY, os.strerror(errno.ENOTTY))
        if size % _TRANSFER.size:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        raw = memoryview(arg).cast("B")
        if raw.nbytes < size:
            raise OSError(errno.EFAULT, os.strerror(errno.EFAULT))
        fields = [_TRANSFER.unpack_from(raw, offset) for offset in range(0, size, _TRANSFER.size)]
        if not fields:
            return 0
        if sum(f[2] for f in fields) > _SPIDEV_BUFSIZ:
            raise OSError(errno.EMSGSIZE, os.strerror(errno.EMSGSIZE))
        transfers = []
        for tx_buf, _rx_buf, length, speed_hz, delay_us, bits_per_word, cs_change, *_ in fields:
            if bits_per_word not in (0, 8):
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            tx = ctypes.string_at(tx_buf, length) if tx_buf else bytes(length)
            transfers.append(_Transfer(tx, speed_hz or dev.max_speed_hz, delay_us, bool(cs_change)))
        replies = self._run(dev, transfers)
        for (_tx_buf, rx_buf, length, *_), reply in zip(fields, replies, strict=True):
            if rx_buf:
                ctypes.memmove(rx_buf, reply, length)
        return sum(len(r) for r in replies)

    def _open(self, dev: SimSpiDev, bus: int, cs: int) -> int:
        if (bus, cs) not in self._chips:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), f"/dev/spidev{bus}.{cs}")
        fd = next(self._fds)
        self._devices[fd] = dev
        return fd

    def _close(self, fd: int) -> None:
        self._devices.pop(fd, None)

    def _run(self, dev: SimSpiDev, transfers: list[_Transfer]) -> list[bytes]:
        """One message: group transfers into CS frames, time them, ask the chip."""
        key = (dev.bus, dev.cs)
        with self._lock:
            t = max(self._clock.now(), self._busy_until)
            faults = self._faults[key]
            if t < faults.error_until:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            message = next(self._messages)
            replies: list[bytes] = []
            starts: list[float] = []
            frame: list[_Transfer] = []
            for i, transfer in enumerate(transfers):
                frame.append(transfer)
                if transfer.cs_change or i == len(transfers) - 1:
                    reply = self._frame(key, frame, t, dev.mode)
                    for part in frame:
                        starts.append(t)
                        replies.append(reply[: len(part.tx)])
                        reply = reply[len(part.tx) :]
                        t += len(part.tx) * 8 / part.speed_hz + part.delay_us * 1e-6
                    t += CS_GAP_S
                    frame = []
            self._busy_until = t
            for start, transfer, reply in zip(starts, transfers, replies, strict=True):
                self.log.append(
                    SpiRecord(
                        start,
                        dev.bus,
                        dev.cs,
                        dev.mode,
                        transfer.speed_hz,
                        transfer.tx,
                        reply,
                        message,
                        transfer.cs_change,
                    )
                )
            return replies

    def _frame(self, key: tuple[int, int], parts: list[_Transfer], t: float, mode: int) -> bytes:
        tx = b"".join(p.tx for p in parts)
        faults = self._faults[key]
        if faults.disconnected:
            return b"\xff" * len(tx)
        if faults.stuck and faults.last_reply:
            repeats = -(-len(tx) // len(faults.last_reply))
            return (faults.last_reply * repeats)[: len(tx)]
        reply = self._chips[key].exchange(tx, t, mode, min(p.speed_hz for p in parts))
        faults.last_reply = reply
        return reply
