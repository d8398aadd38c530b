"""MCP3208 12-bit ADC: single-ended conversions, many per burst in one system call."""

from __future__ import annotations

from collections.abc import Sequence

from appliance.drivers.interfaces import BusError
from appliance.drivers.spi import SpiPort

CHANNELS = 8
_MAX_BURST_SHAPES = 16
_NULL_BIT = 0x10  # rx[1] bit 4: the chip drives it low right before B11


def command(channel: int) -> bytes:
    """TX frame: start bit and SGL in byte 0 (with D2), D1 D0 at the top of byte 1."""
    return bytes((0x06 | channel >> 2, (channel & 3) << 6, 0))


def decode(rx: bytes, channel: int) -> int:
    """Counts from a reply; a set null bit means nobody drove MISO (chip absent, line high)."""
    if rx[1] & _NULL_BIT:
        raise BusError(
            f"MCP3208 channel {channel}: null bit high (reply {rx.hex()}): MISO stuck high or chip absent"
        )
    return ((rx[1] & 0x0F) << 8) | rx[2]


class Mcp3208:
    def __init__(self, port: SpiPort) -> None:
        self._port = port
        self._bursts: dict[tuple[tuple[int, ...], int], list[bytes]] = {}

    def burst(self, channels: Sequence[int], repeats: int) -> list[list[int]]:
        """`repeats` rounds over `channels` (interleaved, so all see the same moments)."""
        key = (tuple(channels), repeats)
        frames = self._bursts.get(key) or self._frames(*key)
        replies = self._port.transfer_frames(frames)
        counts: list[list[int]] = [[] for _ in channels]
        for i, rx in enumerate(replies):
            k = i % len(channels)
            counts[k].append(decode(rx, channels[k]))
        return counts

    def read(self, channel: int) -> int:
        _check_channels([channel])
        return decode(self._port.transfer(command(channel)), channel)

    def _frames(self, channels: tuple[int, ...], repeats: int) -> list[bytes]:
        _check_channels(channels)
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, not {repeats}")
        frames = [command(ch) for _ in range(repeats) for ch in channels]
        if len(self._bursts) >= _MAX_BURST_SHAPES:
            self._bursts.clear()
        self._bursts[(channels, repeats)] = frames
        return frames


def _check_channels(channels: Sequence[int]) -> None:
    if not channels or any(not 0 <= ch < CHANNELS for ch in channels):
        raise ValueError(f"MCP3208 channels are 0..{CHANNELS - 1}, got {list(channels)}")
