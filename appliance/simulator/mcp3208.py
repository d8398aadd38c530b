"""Simulated MCP3208, decoded bit by bit as the datasheet describes the serial protocol.

After CS falls the chip waits for the first 1 on DIN (start bit), then reads SGL/DIFF and
D2..D0, samples for one clock, drives a null bit (0), the 12-bit result MSB first and then,
if clocks continue, the result again LSB first (B1..B11) followed by zeros. Before the null
bit DOUT is high-impedance; the HAT's MISO pull-up makes it read 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from appliance.simulator.spi_bus import SpiChip

BITS = 12
_STREAM_BITS = 1 + BITS + (BITS - 1)  # null bit, MSB-first result, LSB-first repeat


class SimMcp3208(SpiChip):
    spi_modes = frozenset({0, 3})
    max_speed_hz = 2_000_000  # at 5 V supply

    def __init__(self, source: Callable[[int, float], float], vref_v: float) -> None:
        """`source(channel, t)` is the voltage on CH`channel` at simulated time `t`."""
        self._source = source
        self._vref_v = vref_v

    def counts(self, volts: float) -> int:
        n = math.floor(volts / self._vref_v * (1 << BITS))
        return max(0, min((1 << BITS) - 1, n))

    def frame(self, tx: bytes, t: float) -> bytes:
        bits = len(tx) * 8
        word = int.from_bytes(tx, "big")
        start = bits - word.bit_length()  # clock index of the start bit
        if word == 0 or start + 5 > bits:
            return b"\xff" * len(tx)  # no complete command: DOUT stays high-impedance
        config = (word >> (bits - start - 5)) & 0xF
        single_ended, channel = config >> 3, config & 7
        volts = self._source(channel, t)
        if not single_ended:  # pseudo-differential: IN+ = channel, IN- = its pair partner
            volts -= self._source(channel ^ 1, t)
        result = self.counts(volts)
        lsb_first = int(f"{result:0{BITS}b}"[::-1][1:], 2)
        stream = (result << (BITS - 1)) | lsb_first
        head = start + 6  # start bit, SGL, D2..D0 and the sample clock: high-impedance
        out = (((1 << head) - 1) << _STREAM_BITS) | stream
        total = head + _STREAM_BITS
        out = out >> (total - bits) if total >= bits else out << (bits - total)
        return out.to_bytes(len(tx), "big")
