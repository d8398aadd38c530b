"""Raw ADC bursts -> pilot plateaus, PP ohms, rail and temperature, with each channel's health.

One burst per tick: the four CP channels `CP_REPEATS` times over, then PP, rail and
temperature once. A conversion takes 34 µs, so eight rounds of four CP channels sample each
CP channel every 136 µs across ~1.1 ms: one whole PWM period, whatever its phase. The loop
is not phase-locked to the PWM, and fewer rounds would leave a gap where, at high duty, no
sample comes soon enough after the negative detector's 40 µs refresh.

Plateau estimate (`plateau`): a peak detector holds the plateau and droops towards 0 V until
the next refresh (up to 9 % at 6 A duty, 10 % of the negative plateau at 96 %), so the
plateau is the least-drooped level. Sorted towards the plateau (highest first for CP-high,
lowest first for CP-low), the extreme half of the burst holds the least-drooped samples.
Its most extreme sample is dropped, so one wild conversion (a flipped bit reading 12.9 V)
never reaches the estimate, and the next three are averaged, so no single sample decides:
a false rise C->B needs several samples 2 V (4 σ at σ 0.5 V) high at once. The diode check
uses the same estimate of the negative plateau.

Channel health, per ADC channel:
- stuck: every conversion of the channel returned the same count for `timing.adc_stuck_s`
  and at least `MIN_STUCK_CONVERSIONS` conversions (0.5 s for a CP channel, read 8 times a
  tick; 0.9 s for a slow channel, read once). The converter's own noise (about half a
  count) moves a live channel: with it, a slow channel whose input sits mid-code repeats
  90 times in a row with a chance of about 1e-15 per tick. A count at either end of the ADC range is no
  evidence: a saturated input repeats by nature (PP with no cable reads full scale); the
  plausibility rules judge those.
- implausible, judged on the burst's median so one wild conversion cannot trigger it:
  a CP channel at either end of the ADC range (±15.3 V, beyond the ±13.2 V the pilot stage
  can drive); CP-high below -3 V or CP-low above +3 V (a positive peak detector bleeds
  towards 0 V and never holds a negative level, in every pilot mode: X1, X2, F, state E;
  this also catches swapped CP channels); board temperature outside -40..125 °C (the
  sensor's range). PP has no rule: every count means something (0 = short -> PPInvalid,
  full scale = no cable). A +12 V rail outside its tolerance is `rail_error` (a pilot
  problem, not an ADC one).
- An out-of-range reading is held like a failed transfer: the channel's last good value
  stands for up to `timing.bus_error_ticks - 1` ticks, and only a reading out of range that
  many ticks in a row is reported. One wild burst never becomes a fault.
A stuck or implausible CP or PP channel is its station's `StationSensing.error` (that
channel's value reads NaN); the rail and temperature channels and bus errors are
board-wide (`Sensed.error`).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from appliance.board.description import BoardDescription
from appliance.board.scaling import Scaling
from appliance.pilot.config import Timing

CP_REPEATS = 8
MIN_STUCK_CONVERSIONS = 90  # identical conversions before a channel counts as stuck (see the docstring)
MIN_PLATEAU_SAMPLES = 4  # one dropped, at least one averaged, the rest of the burst below the half
DETECTOR_SLACK_V = 3.0  # how far past 0 V noise and offset may carry a decayed peak detector
TEMPERATURE_RANGE_C = (-40.0, 125.0)  # the board sensor's measuring range

_STATION_SIGNALS = ("cp_high", "cp_low", "pp")
_LABELS = {"cp_high": "CP-high", "cp_low": "CP-low", "pp": "PP", "rail_12v": "+12 V rail monitor",
           "temperature": "board temperature"}


@dataclass
class StationSensing:
    """One station's readings; a stuck or implausible channel of its own is its problem alone."""

    cp_high_v: float
    cp_low_v: float
    pp_ohm: float
    error: str | None = None  # names the channel and why; that channel's value reads NaN


@dataclass
class Sensed:
    """One tick's readings; `error` is board-wide: nothing on the ADC can be trusted."""

    stations: dict[int, StationSensing]
    temperature_c: float
    error: str | None  # the bus failed, or the rail or temperature channel is stuck or implausible
    rail_error: str | None


def plateau(samples: Sequence[float], positive: bool) -> float:
    """A peak detector's least-drooped level from one burst, robust to one wild sample.

    The extreme half of the samples (towards the plateau) less its most extreme one, averaged.
    Any unit that rises with the voltage works (counts or volts).
    """
    if len(samples) < MIN_PLATEAU_SAMPLES:
        raise ValueError(f"a plateau needs at least {MIN_PLATEAU_SAMPLES} samples, got {len(samples)}")
    ordered = sorted(samples)
    n = len(ordered)
    kept = ordered[n - n // 2 : n - 1] if positive else ordered[1 : n // 2]
    return sum(kept) / len(kept)


@dataclass
class _Channel:
    """One ADC channel: where its conversions sit in the burst, its rules, and what it did lately."""

    signal: str
    station: int | None
    adc: int
    slots: list[int]
    to_unit: Callable[[float], float]  # counts -> volts, ohms or °C
    window: tuple[int, int]  # median counts that pass the plausibility rules
    run_count: int = -1  # the count every conversion has repeated, -1: none
    run_ticks: int = 0
    bad_ticks: int = 0
    held: float = math.nan  # last reading that passed the plausibility rules

    @property
    def name(self) -> str:
        owner = f"station {self.station} " if self.station is not None else ""
        return f"{owner}{_LABELS[self.signal]} (ADC ch{self.adc})"


@dataclass
class _Reading:
    value: float
    stuck: str | None = None
    problem: str | None = None  # out of its window for `bus_error_ticks` ticks in a row


class Sensing:
    """Turns one burst per control tick into physical readings and watches every ADC channel."""

    def __init__(self, board: BoardDescription, timing: Timing, station_ids: Sequence[int],
                 cp_repeats: int = CP_REPEATS) -> None:
        if cp_repeats < MIN_PLATEAU_SAMPLES:
            raise ValueError(f"cp_repeats must be at least {MIN_PLATEAU_SAMPLES}, not {cp_repeats}")
        self.scaling = s = Scaling(board)
        self.board = board
        self.station_ids = list(station_ids)
        fast: list[tuple[str, int | None]] = [
            (signal, sid) for sid in self.station_ids for signal in ("cp_high", "cp_low")
        ]
        slow: list[tuple[str, int | None]] = [("pp", sid) for sid in self.station_ids]
        slow += [("rail_12v", None), ("temperature", None)]
        self.layout: list[tuple[str, int | None]] = fast * cp_repeats + slow
        self.channels = [board.adc_channel(signal, sid) for signal, sid in self.layout]
        self._top = s.full_scale - 1
        rm = board.rail_monitor
        self._stage_max_v = board.pilot.rail_v * (1 + rm.tolerance_pct / 100)
        rail_lo, rail_hi = rm.nominal_v * (1 - rm.tolerance_pct / 100), rm.nominal_v * (1 + rm.tolerance_pct / 100)
        inner = (1, self._top - 1)  # a CP channel at either end of the ADC range is past anything the stage drives
        rules: dict[str, tuple[Callable[[float], float], tuple[int, int]]] = {
            "cp_high": (
                s.pilot_volts_from_counts,
                self._window(s.pilot_volts_from_counts, -DETECTOR_SLACK_V, math.inf, inner),
            ),
            "cp_low": (
                s.pilot_volts_from_counts,
                self._window(s.pilot_volts_from_counts, -math.inf, DETECTOR_SLACK_V, inner),
            ),
            "pp": (s.pp_ohms_from_counts, (0, self._top)),
            "rail_12v": (s.rail_volts_from_counts, self._window(s.rail_volts_from_counts, rail_lo, rail_hi)),
            "temperature": (s.temperature_from_counts, self._window(s.temperature_from_counts, *TEMPERATURE_RANGE_C)),
        }
        self._watch = [
            _Channel(
                signal,
                sid,
                board.adc_channel(signal, sid),
                [i for i, k in enumerate(self.layout) if k == (signal, sid)],
                *rules[signal],
            )
            for signal, sid in fast + slow
        ]
        self._period_s = timing.loop_period_s
        self._stuck_ticks = max(2, round(timing.adc_stuck_s / timing.loop_period_s))
        self._error_limit = timing.bus_error_ticks
        self._errors = 0
        self._last_error = ""
        self._last: Sensed | None = None

    def _window(self, to_unit: Callable[[float], float], lo: float, hi: float,
                within: tuple[int, int] | None = None) -> tuple[int, int]:
        """The counts whose value lies in lo..hi (`to_unit` rises with the count), clipped to `within`."""
        counts = range(self.scaling.full_scale)
        first, last = bisect_left(counts, lo, key=to_unit), bisect_right(counts, hi, key=to_unit) - 1
        if within is not None:
            first, last = max(first, within[0]), min(last, within[1])
        return first, last

    def update(self, bursts: list[list[int]] | None, bus_error: str | None = None) -> Sensed:
        """One tick's readings (one list per entry of `channels`); None when the bus failed."""
        if bursts is None:
            self._errors += 1
            self._last_error = bus_error or "ADC transfer failed"
            if self._errors >= self._error_limit or self._last is None:
                return self._failed(f"ADC bus error: {self._last_error}")
            return self._last  # a single glitch: hold the last good readings for a tick or two
        self._errors = 0
        r = {(ch.signal, ch.station): self._read(ch, bursts) for ch in self._watch}
        stations = {}
        for sid in self.station_ids:
            cp_high, cp_low, pp = (r[(signal, sid)] for signal in _STATION_SIGNALS)
            errors = [error for x in (cp_high, cp_low, pp) if (error := x.stuck or x.problem)]
            stations[sid] = StationSensing(cp_high.value, cp_low.value, pp.value, error="; ".join(errors) or None)
        rail, temperature = r[("rail_12v", None)], r[("temperature", None)]
        board_errors = [x for x in (rail.stuck, temperature.stuck, temperature.problem) if x]
        self._last = Sensed(stations, temperature.value, "; ".join(board_errors) or None, rail.problem)
        return self._last

    def _failed(self, message: str) -> Sensed:
        stations = {sid: StationSensing(math.nan, math.nan, math.inf) for sid in self.station_ids}
        return Sensed(stations, math.nan, message, None)

    def _read(self, ch: _Channel, bursts: list[list[int]]) -> _Reading:
        counts = sorted([n for slot in ch.slots for n in bursts[slot]])
        stuck = self._stuck(ch, counts)
        median = counts[len(counts) // 2]
        if ch.signal == "cp_high" or ch.signal == "cp_low":
            value = ch.to_unit(plateau(counts, ch.signal == "cp_high"))
        else:
            value = ch.to_unit(median)
        problem = None
        if ch.window[0] <= median <= ch.window[1]:
            ch.bad_ticks, ch.held = 0, value
        else:
            ch.bad_ticks += 1
            if ch.bad_ticks < self._error_limit:
                value = ch.held
            else:
                problem = self._why(ch, median)
        if stuck or problem:
            value = math.nan
        return _Reading(value, stuck, problem)

    def _stuck(self, ch: _Channel, counts: list[int]) -> str | None:
        same = counts[0] == counts[-1] and 0 < counts[0] < self._top
        if same and counts[0] == ch.run_count:
            ch.run_ticks += 1
        else:
            ch.run_count, ch.run_ticks = (counts[0] if same else -1), 0
        if ch.run_ticks < max(self._stuck_ticks, math.ceil(MIN_STUCK_CONVERSIONS / len(counts))):
            return None
        return f"{ch.name} stuck: every conversion read {ch.run_count} for {ch.run_ticks * self._period_s:.2f} s"

    def _why(self, ch: _Channel, median: int) -> str:
        """The rule a median outside the channel's window breaks, in words."""
        v = ch.to_unit(median)
        if ch.signal == "temperature":
            lo, hi = TEMPERATURE_RANGE_C
            return f"{ch.name} implausible: reads {v:.0f} °C, outside the sensor's {lo:.0f}..{hi:.0f} °C"
        if ch.signal == "rail_12v":
            rm = self.board.rail_monitor
            return f"+12 V pilot rail at {v:.1f} V (expected {rm.nominal_v:g} V ± {rm.tolerance_pct:g} %)"
        if median in (0, self._top):
            return (f"{ch.name} implausible: reads {v:+.1f} V, the end of the ADC range "
                    f"(the pilot stage drives at most ±{self._stage_max_v:.1f} V)")
        polarity = ("positive", "negative") if ch.signal == "cp_high" else ("negative", "positive")
        return (
            f"{ch.name} implausible: reads {v:+.1f} V, a {polarity[0]} peak detector never holds a {polarity[1]} level"
        )
