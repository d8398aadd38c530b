"""Simulated ATM90E32AS: a register file behind the SPI frame protocol.

Model choices, where the datasheet leaves room:
- Measurement registers are zero until MeterEn = 1. Readings scale with the gain registers
  relative to the board's calibration, so a chip left at its reset gains reads wrong.
- The measurement registers refresh every `REFRESH_S`; a burst that reads a high and low
  word sees one snapshot.
- Import energy integrates the measured power over simulated time (trapezoids, at least
  one sample per `MAX_STEP_S`) and counts in APenergyA..C with the board's LSB scaled by
  the PLconst register; reading a register clears the counted part (saturating at 0xFFFF).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.board.description import Meter as MeterCalibration
from appliance.board.description import load_board
from appliance.clock import Clock
from appliance.drivers import atm90e32 as reg
from appliance.simulator.spi_bus import SpiChip

REFRESH_S = 0.01
MAX_STEP_S = 1.0
_CONFIG = range(reg.PL_CONST_H, reg.SOFT_RESET)  # writable only after CfgRegAccEn = 0x55AA
_RESET_GAIN = 0x8000
_POWER_ON = {  # this model's register values after power-on or a soft reset
    reg.METER_EN: 0x0000,
    reg.CFG_REG_ACC_EN: reg.CFG_LOCK,
    reg.PL_CONST_H: 0x0861,
    reg.PL_CONST_L: 0xC468,
    reg.MMODE0: 0x0087,
    reg.MMODE1: 0x0000,
    **{a: _RESET_GAIN for a in reg.UGAIN + reg.IGAIN},
}
_HIGH_Z = b"\xff\xff"  # DOUT not driven: the MISO pull-up reads ones


@dataclass(frozen=True)
class PhaseQuantities:
    """What the chip's inputs see, per phase L1..L3 of the station."""

    voltage_v: tuple[float, float, float]
    current_a: tuple[float, float, float]
    power_factor: tuple[float, float, float]
    frequency_hz: float
    temperature_c: float


def _u16(value: float) -> int:
    return max(0, min(0xFFFF, round(value)))


def _s16(value: float) -> int:
    return max(-0x8000, min(0x7FFF, round(value))) & 0xFFFF


def _extended(value: float, lsb: float) -> tuple[int, int]:
    """Main register and its LSB extension (bits 15..8) for an unsigned RMS value."""
    n = max(0, min(0xFFFFFF, round(value / lsb * reg.EXT)))
    return n >> 8, (n & 0xFF) << 8


class SimAtm90e32(SpiChip):
    spi_modes = frozenset({3})
    max_speed_hz = 1_000_000

    def __init__(
        self,
        source: Callable[[float], PhaseQuantities],
        clock: Clock,
        calibration: MeterCalibration | None = None,
    ) -> None:
        """`source(t)` gives the chip's inputs at simulated time `t`; `calibration` is what
        the HAT's dividers and CTs need (the board description's by default)."""
        self._source = source
        self._clock = clock
        self._cal = calibration if calibration is not None else load_board().meter
        self._lost = False
        self._power_on()

    # -- faults ---------------------------------------------------------------------------
    def lose(self) -> None:
        """The chip stops answering (supply or SPI lines gone): MISO floats high."""
        self._lost = True

    def restore(self) -> None:
        """The chip answers again, as after a power-on reset: unconfigured, MeterEn = 0."""
        self._lost = False
        self._power_on()

    # -- SPI --------------------------------------------------------------------------------
    def frame(self, tx: bytes, t: float) -> bytes:
        if self._lost or len(tx) != 4:
            return b"\xff" * len(tx)
        command = int.from_bytes(tx[:2], "big")
        address = command & 0x03FF
        if command & 0x8000:
            return _HIGH_Z + self._read(address, t).to_bytes(2, "big")
        self._write(address, int.from_bytes(tx[2:], "big"), t)
        return _HIGH_Z * 2

    # -- registers ----------------------------------------------------------------------
    def _power_on(self, t: float | None = None) -> None:
        self._regs = dict(_POWER_ON)
        self._energy_wh = [0.0, 0.0, 0.0]
        self._snapshot: dict[int, int] = {}
        self._sample_t = self._clock.now() if t is None else t
        self._power_w = [0.0, 0.0, 0.0]
        self._stale = True

    @property
    def _enabled(self) -> bool:
        return self._regs[reg.METER_EN] == reg.METER_ENABLED

    def _write(self, address: int, value: int, t: float) -> None:
        if address == reg.SOFT_RESET:
            if value == reg.SOFT_RESET_KEY:
                self._power_on(t)
        elif address == reg.CFG_REG_ACC_EN:
            self._regs[address] = value
        elif address == reg.METER_EN or (
            address in _CONFIG and self._regs[reg.CFG_REG_ACC_EN] == reg.CFG_UNLOCK
        ):
            self._sample(t)  # energy so far counts with the settings it was measured with
            self._regs[address] = value
            self._stale = True

    def _read(self, address: int, t: float) -> int:
        if self._stale or t >= self._sample_t + REFRESH_S:
            self._sample(t)
        if address in reg.AP_ENERGY:
            return self._take_energy(reg.AP_ENERGY.index(address))
        return self._snapshot.get(address, self._regs.get(address, 0))

    # -- measurement ----------------------------------------------------------------------
    def _measure(self, t: float) -> tuple[dict[int, int], list[float]]:
        """Register words and per-phase active power at `t`, as this chip is set up."""
        q = self._source(t)
        v_gain = [self._regs[a] / self._cal.ugain for a in reg.UGAIN]
        i_gain = [self._regs[a] / self._cal.igain for a in reg.IGAIN]
        volts = [q.voltage_v[p] * v_gain[p] for p in range(3)]
        amps = [q.current_a[p] * i_gain[p] for p in range(3)]
        watts = [volts[p] * amps[p] * q.power_factor[p] for p in range(3)]
        words = {reg.FREQ: _u16(q.frequency_hz / reg.FREQ_HZ), reg.TEMP: _s16(q.temperature_c)}
        for p in range(3):
            words[reg.URMS[p]], words[reg.URMS_LSB[p]] = _extended(volts[p], reg.URMS_V)
            words[reg.IRMS[p]], words[reg.IRMS_LSB[p]] = _extended(amps[p], reg.IRMS_A)
            raw = max(-(1 << 31), min((1 << 31) - 1, round(watts[p] / reg.PMEAN_W))) & 0xFFFF_FFFF
            words[reg.PMEAN[p]], words[reg.PMEAN_LSB[p]] = raw >> 16, raw & 0xFFFF
            words[reg.PF_MEAN[p]] = _s16(q.power_factor[p] * reg.PF_SCALE)
        return words, watts

    def _sample(self, t: float) -> None:
        """Integrate import energy up to `t` and refresh the measurement registers."""
        if not self._enabled:
            self._snapshot, self._sample_t, self._power_w = {}, t, [0.0, 0.0, 0.0]
            return
        if self._stale:  # settings changed: restart from a sample taken with the new ones
            self._snapshot, self._power_w = self._measure(self._sample_t)
            self._stale = False
        while self._sample_t < t:
            end = min(t, self._sample_t + MAX_STEP_S)
            words, watts = self._measure(end)
            hours = (end - self._sample_t) / 3600
            for p in range(3):
                self._energy_wh[p] += (max(self._power_w[p], 0.0) + max(watts[p], 0.0)) / 2 * hours
            self._snapshot, self._sample_t, self._power_w = words, end, watts

    def _take_energy(self, phase: int) -> int:
        pl_constant = (self._regs[reg.PL_CONST_H] << 16) | self._regs[reg.PL_CONST_L]
        lsb_wh = self._cal.energy_lsb_wh * pl_constant / self._cal.pl_constant
        if lsb_wh <= 0:
            return 0
        # the epsilon keeps float rounding (999.99999...) from holding back a whole step
        count = min(0xFFFF, int(self._energy_wh[phase] / lsb_wh + 1e-9))
        self._energy_wh[phase] -= count * lsb_wh
        return count
