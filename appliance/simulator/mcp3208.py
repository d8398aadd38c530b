"""Simulated MCP3208, decoded bit by bit as the datasheet describes the serial protocol.

After CS falls the chip waits for the first 1 on DIN (start bit), then reads SGL/DIFF and
D2..D0, samples for one clock, drives a null bit (0), the 12-bit result MSB first and then,
if clocks continue, the result again LSB first (B1..B11) followed by zeros. Before the null
bit DOUT is high-impedance; the HAT's MISO pull-up makes it read 1.

A real converter never returns exactly the same code for long: its transition noise moves the
result by about half a code, so a live channel keeps changing in its last bit. Channel faults
(a glitch on one channel, a channel frozen at its last result) act on the conversion result,
so the driver and everything after it see them as they would on the bus.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from appliance.simulator.spi_bus import SpiChip

BITS = 12
_STREAM_BITS = 1 + BITS + (BITS - 1)  # null bit, MSB-first result, LSB-first repeat
TRANSITION_NOISE_LSB = 0.5  # rms, referred to the input


class SimMcp3208(SpiChip):
    spi_modes = frozenset({0, 3})
    max_speed_hz = 2_000_000  # at 5 V supply

    def __init__(self, source: Callable[[int, float], float], vref_v: float, rng: random.Random | None = None) -> None:
        """`source(channel, t)` is the voltage on CH`channel` at simulated time `t`.

        With `rng`, every conversion carries the converter's transition noise drawn from it;
        without, the converter is ideal (exact codes for exact inputs).
        """
        self._source = source
        self._vref_v = vref_v
        self._rng = rng
        self._last: dict[int, int] = {}  # channel -> its last result
        self._glitches: dict[int, tuple[int, int]] = {}  # channel -> (result, conversions left)
        self._stuck: dict[int, int | None] = {}  # channel -> frozen result (None: its next one)

    def glitch(self, channel: int, volts: float, conversions: int = 1) -> None:
        """The next `conversions` conversions of `channel` return the code for `volts` at its pin."""
        if conversions < 1:
            raise ValueError(f"a glitch lasts at least one conversion, not {conversions}")
        self._glitches[channel] = (self.counts(volts), conversions)

    def stick(self, channel: int) -> None:
        """`channel` repeats its last result from now on (its next one if it has none yet)."""
        self._stuck[channel] = self._last.get(channel)

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
        result = self._convert(config >> 3, config & 7, t)
        lsb_first = int(f"{result:0{BITS}b}"[::-1][1:], 2)
        stream = (result << (BITS - 1)) | lsb_first
        head = start + 6  # start bit, SGL, D2..D0 and the sample clock: high-impedance
        out = (((1 << head) - 1) << _STREAM_BITS) | stream
        total = head + _STREAM_BITS
        out = out >> (total - bits) if total >= bits else out << (bits - total)
        return out.to_bytes(len(tx), "big")

    def _convert(self, single_ended: int, channel: int, t: float) -> int:
        frozen = self._stuck.get(channel)
        if frozen is not None:
            return frozen
        glitch = self._glitches.get(channel)
        if glitch is not None:
            result, left = glitch
            if left > 1:
                self._glitches[channel] = (result, left - 1)
            else:
                del self._glitches[channel]
        else:
            volts = self._source(channel, t)
            if not single_ended:  # pseudo-differential: IN+ = channel, IN- = its pair partner
                volts -= self._source(channel ^ 1, t)
            if self._rng is not None:
                volts += self._rng.gauss(0.0, TRANSITION_NOISE_LSB * self._vref_v / (1 << BITS))
            result = self.counts(volts)
        self._last[channel] = result
        if channel in self._stuck:
            self._stuck[channel] = result
        return result
