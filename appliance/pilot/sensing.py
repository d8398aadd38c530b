"""Raw ADC bursts -> pilot plateaus, PP ohms, rail and temperature, with the ADC's health.

One burst per tick: the four CP channels `cp_repeats` times over, then the slow channels
(PP, rail, temperature) once. The CP samples spread over half a PWM period, so the highest
CP-high sample sits nearest a peak-detector refresh (least droop) and likewise the lowest
CP-low; averaging the extreme third keeps noise from biasing the estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median
from typing import Sequence

from appliance.board.description import BoardDescription
from appliance.board.scaling import Scaling
from appliance.pilot.config import Timing


@dataclass
class StationSensing:
    cp_high_v: float
    cp_low_v: float
    pp_ohm: float


@dataclass
class Sensed:
    stations: dict[int, StationSensing]
    temperature_c: float
    error: str | None  # the ADC cannot be trusted
    rail_error: str | None


def plateau_high(samples: Sequence[float]) -> float:
    k = max(1, len(samples) // 3)
    return sum(sorted(samples)[-k:]) / k


def plateau_low(samples: Sequence[float]) -> float:
    k = max(1, len(samples) // 3)
    return sum(sorted(samples)[:k]) / k


class Sensing:
    """Turns one burst per control tick into physical readings and watches the ADC."""

    def __init__(self, board: BoardDescription, timing: Timing, station_ids: Sequence[int], cp_repeats: int = 4) -> None:
        self.scaling = Scaling(board)
        self.board = board
        self.station_ids = list(station_ids)
        fast = [(signal, sid) for sid in self.station_ids for signal in ("cp_high", "cp_low")]
        slow = [("pp", sid) for sid in self.station_ids] + [("rail_12v", None), ("temperature", None)]
        self.layout: list[tuple[str, int | None]] = fast * cp_repeats + slow
        self.channels = [board.adc_channel(signal, sid) for signal, sid in self.layout]
        self._stuck_limit = max(2, round(timing.adc_stuck_s / timing.loop_period_s))
        self._error_limit = timing.bus_error_ticks
        self._last_raw: tuple[int, ...] | None = None
        self._same = 0
        self._errors = 0
        self._last_error = ""
        self._last: Sensed | None = None

    def update(self, bursts: list[list[int]] | None, bus_error: str | None = None) -> Sensed:
        """One tick's readings (one list per entry of `channels`); None when the bus failed."""
        if bursts is None:
            self._errors += 1
            self._last_error = bus_error or "ADC transfer failed"
            if self._errors >= self._error_limit or self._last is None:
                return self._failed(f"ADC bus error: {self._last_error}")
            return self._last  # a single glitch: hold the last good readings for a tick or two
        self._errors = 0
        raw = tuple(v for burst in bursts for v in burst)
        self._same = self._same + 1 if raw == self._last_raw else 0
        self._last_raw = raw
        sensed = self._convert(bursts)
        if self._same >= self._stuck_limit:
            sensed.error = f"ADC readings frozen for {self._same} ticks (stuck converter)"
        self._last = sensed
        return sensed

    def _failed(self, message: str) -> Sensed:
        stations = {sid: StationSensing(math.nan, math.nan, math.inf) for sid in self.station_ids}
        return Sensed(stations, math.nan, message, None)

    def _convert(self, bursts: list[list[int]]) -> Sensed:
        s = self.scaling
        samples: dict[tuple[str, int | None], list[int]] = {}
        for key, values in zip(self.layout, bursts):
            samples.setdefault(key, []).extend(values)

        def burst(signal: str, station: int | None = None) -> list[int]:
            return samples[(signal, station)]

        stations = {
            sid: StationSensing(
                cp_high_v=plateau_high([s.pilot_volts_from_counts(n) for n in burst("cp_high", sid)]),
                cp_low_v=plateau_low([s.pilot_volts_from_counts(n) for n in burst("cp_low", sid)]),
                pp_ohm=s.pp_ohms_from_counts(median(burst("pp", sid))),
            )
            for sid in self.station_ids
        }
        rail = s.rail_volts_from_counts(median(burst("rail_12v")))
        temperature = s.temperature_from_counts(median(burst("temperature")))
        rm = self.board.rail_monitor
        rail_error = None
        if abs(rail - rm.nominal_v) > rm.nominal_v * rm.tolerance_pct / 100:
            rail_error = f"+12 V pilot rail at {rail:.1f} V (expected {rm.nominal_v:g} V ± {rm.tolerance_pct:g} %)"
        error = None
        if not -40.0 <= temperature <= 125.0:
            error = f"board temperature reads {temperature:.0f} °C: sensor or ADC implausible"
        return Sensed(stations, temperature, error, rail_error)
