"""Conversions between ADC counts and physical quantities, derived from the board description.

The pilot process uses the `*_from_counts` direction; the simulated HAT and the hardware
checks use the forward direction (`adc_volts_*`). Both come from the same network values,
so no scaling constant lives anywhere else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from appliance.board.description import BoardDescription


@dataclass(frozen=True)
class Scaling:
    board: BoardDescription

    # -- ADC basics -------------------------------------------------------------------
    @property
    def full_scale(self) -> int:
        return self.board.adc.full_scale

    def counts_from_adc_volts(self, volts: float) -> int:
        """What the MCP3208 returns for an input voltage (clipped to 0..full scale - 1)."""
        n = math.floor(volts / self.board.adc.vref_v * self.full_scale)
        return max(0, min(self.full_scale - 1, n))

    def adc_volts_from_counts(self, counts: float) -> float:
        return (counts + 0.5) * self.board.adc.vref_v / self.full_scale

    # -- pilot (peak detector output through the level-shift network) ----------------
    def adc_volts_from_pilot(self, pilot_v: float) -> float:
        ls = self.board.pilot.level_shift
        g = 1 / ls.input_ohm + 1 / ls.bias_ohm + 1 / ls.ground_ohm
        return (pilot_v / ls.input_ohm + self.board.adc.vref_v / ls.bias_ohm) / g

    def pilot_volts_from_counts(self, counts: float) -> float:
        ls = self.board.pilot.level_shift
        g = 1 / ls.input_ohm + 1 / ls.bias_ohm + 1 / ls.ground_ohm
        v_node = self.adc_volts_from_counts(counts)
        return (v_node * g - self.board.adc.vref_v / ls.bias_ohm) * ls.input_ohm

    # -- proximity pilot --------------------------------------------------------------
    def adc_volts_from_pp_ohms(self, ohms: float) -> float:
        """Cable resistor to PE, pulled up to the reference; `math.inf` = no cable."""
        vref = self.board.adc.vref_v
        if math.isinf(ohms):
            return vref
        return vref * ohms / (ohms + self.board.proximity.pullup_ohm)

    def pp_ohms_from_counts(self, counts: float) -> float:
        n = counts + 0.5
        if n >= self.full_scale - 1:
            return math.inf
        return self.board.proximity.pullup_ohm * n / (self.full_scale - n)

    # -- +12 V rail and board temperature ---------------------------------------------
    def adc_volts_from_rail(self, rail_v: float) -> float:
        rm = self.board.rail_monitor
        return rail_v * rm.bottom_ohm / (rm.top_ohm + rm.bottom_ohm)

    def rail_volts_from_counts(self, counts: float) -> float:
        rm = self.board.rail_monitor
        return self.adc_volts_from_counts(counts) * (rm.top_ohm + rm.bottom_ohm) / rm.bottom_ohm

    def adc_volts_from_temperature(self, celsius: float) -> float:
        t = self.board.temperature
        return t.offset_v + t.slope_v_per_c * celsius

    def temperature_from_counts(self, counts: float) -> float:
        t = self.board.temperature
        return (self.adc_volts_from_counts(counts) - t.offset_v) / t.slope_v_per_c
