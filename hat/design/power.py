"""Supplies: the Pi's 5 V and 3.3 V, +/-15 V for the peak detectors, regulated +/-12 V pilot rails.

Why two analog rails: a precision peak detector's op-amp must drive its output a diode drop
beyond the signal, and the pilot swings to +/-12 V. The detectors therefore run from +/-15 V,
while the pilot driver gets its own +/-12 V from low-noise LDOs, so the pilot amplitude is
set by a 1 % regulator rather than by an unregulated converter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hat.design.builder import Builder
from hat.design.parts import (
    LED_GREEN,
    TMR3_0523,
    TPS7A30_FEEDBACK_V,
    TPS7A49_FEEDBACK_V,
    TPS7A3001,
    TPS7A4901,
    PartSpec,
)
from hat.design.passives import E96_MANTISSAS, e96

# The rail-to-rail driver's output stays ~50 mV inside its rail when the car loads the
# positive plateau: the +12 V LDO sits that much higher. The negative plateau carries no
# load (the car's diode blocks), so the -12 V LDO is set to -rail_v itself.
DRIVER_HEADROOM_V = 0.05


@dataclass(frozen=True)
class Rails:
    gnd: Any
    p5v: Any
    p3v3: Any
    p15v: Any
    n15v: Any
    p12v: Any
    n12v: Any


def ldo_divider(target_v: float, feedback_v: float) -> tuple[tuple[float, ...], float]:
    """Feedback divider for Vout = Vfb (1 + top / bottom) from E96 parts.

    E96 ratios near 9.2 are sparse (the best single pair misses 12 V by 0.4 %), so the top
    may be two resistors in series. Returns (top resistors, bottom); bottom is 10k..100k.
    """
    candidates: list[tuple[tuple[float, ...], float]] = []
    for mantissa in E96_MANTISSAS:
        bottom = mantissa * 100.0
        ideal = bottom * (target_v / feedback_v - 1.0)
        single = e96(ideal)
        candidates.append(((single,), bottom))
        coarse = e96(ideal * 0.9)
        candidates.append(((coarse, e96(ideal - coarse)), bottom))

    def error(c: tuple[tuple[float, ...], float]) -> float:
        return abs(feedback_v * (1 + sum(c[0]) / c[1]) - target_v)

    return min(candidates, key=lambda c: (round(error(c), 3), len(c[0])))


def _pilot_ldo(b: Builder, rails: Rails, spec: PartSpec, feedback_v: float, vin: Any,
               vout: Any, target_v: float, pad: Any, name: str) -> None:
    role = f"{name} pilot rail"
    fb = b.net(f"{name}_LDO_FB")
    nr = b.net(f"{name}_LDO_NR")
    b.add(spec, role, {"IN": vin, "OUT": vout, "FB": fb, "GND": rails.gnd, "EN": vin,
                       "NR": nr, "PAD": pad})
    tops, bottom = ldo_divider(target_v, feedback_v)
    node = vout
    for i, top in enumerate(tops, start=1):
        nxt = fb if i == len(tops) else b.net(f"{name}_LDO_FB{i}")
        b.r(top, node, nxt, role)
        node = nxt
    b.r(bottom, fb, rails.gnd, role)
    b.c(10e-9, nr, rails.gnd, role)
    b.decouple(vin, rails.gnd, role, 10e-6)
    b.decouple(vout, rails.gnd, role, 10e-6)


def power(b: Builder, rail_v: float) -> Rails:
    """All supplies; `rail_v` is the pilot amplitude from the board description."""
    rails = Rails(
        gnd=b.rail("GND"), p5v=b.rail("+5V"), p3v3=b.rail("+3V3"),
        p15v=b.net("+15V"), n15v=b.net("-15V"), p12v=b.net("+12V"), n12v=b.net("-12V"),
    )
    role = "+/-15 V supply"
    b.add(TMR3_0523, role, {"VIN": rails.p5v, "GND_IN": rails.gnd, "VOUT_P": rails.p15v,
                            "COM": rails.gnd, "VOUT_N": rails.n15v})
    for rail in (rails.p5v, rails.p15v, rails.n15v):
        b.decouple(rail, rails.gnd, role, 10e-6)
    _pilot_ldo(b, rails, TPS7A4901, TPS7A49_FEEDBACK_V, rails.p15v, rails.p12v,
               rail_v + DRIVER_HEADROOM_V, rails.gnd, "P12")
    # A negative regulator's substrate is its most negative pin: the pad goes to IN.
    _pilot_ldo(b, rails, TPS7A3001, TPS7A30_FEEDBACK_V, rails.n15v, rails.n12v,
               -rail_v, rails.n15v, "N12")

    led = b.net("PWR_LED_A")
    b.r(4.7e3, rails.p12v, led, "power LED")
    b.add(LED_GREEN, "power LED", {"A": led, "K": rails.gnd})
    for rail in (rails.p5v, rails.p3v3, rails.p15v, rails.n15v, rails.p12v, rails.n12v,
                 rails.gnd):
        b.tp(rail, "supply test point")
    return rails
