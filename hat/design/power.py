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


@dataclass(frozen=True)
class Rails:
    gnd: Any
    p5v: Any
    p3v3: Any
    p15v: Any
    n15v: Any
    p12v: Any
    n12v: Any


def ldo_divider(target_v: float, feedback_v: float) -> tuple[float, float]:
    """E96 (top, bottom) feedback pair, bottom 10k..20k, closest to Vout = Vfb (1 + top/bottom)."""
    pairs = []
    for mantissa in E96_MANTISSAS:
        bottom = mantissa * 100.0
        if bottom > 20e3:
            break
        pairs.append((e96(bottom * (target_v / feedback_v - 1.0)), bottom))
    return min(pairs, key=lambda p: abs(feedback_v * (1 + p[0] / p[1]) - target_v))


def _pilot_ldo(b: Builder, rails: Rails, spec: PartSpec, feedback_v: float, vin: Any,
               vout: Any, target_v: float, pad: Any, name: str) -> None:
    role = f"{name} pilot rail"
    fb = b.net(f"{name}_LDO_FB")
    nr = b.net(f"{name}_LDO_NR")
    b.add(spec, role, {"IN": vin, "OUT": vout, "FB": fb, "GND": rails.gnd, "EN": vin,
                       "NR": nr, "PAD": pad})
    top, bottom = ldo_divider(target_v, feedback_v)
    b.r(top, vout, fb, role)
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
    _pilot_ldo(b, rails, TPS7A4901, TPS7A49_FEEDBACK_V, rails.p15v, rails.p12v, rail_v,
               rails.gnd, "P12")
    # A negative regulator's substrate is its most negative pin: the pad goes to IN.
    _pilot_ldo(b, rails, TPS7A3001, TPS7A30_FEEDBACK_V, rails.n15v, rails.n12v, -rail_v,
               rails.n15v, "N12")

    led = b.net("PWR_LED_A")
    b.r(4.7e3, rails.p12v, led, "power LED")
    b.add(LED_GREEN, "power LED", {"A": led, "K": rails.gnd})
    for rail in (rails.p5v, rails.p3v3, rails.p15v, rails.n15v, rails.p12v, rails.n12v,
                 rails.gnd):
        b.tp(rail, "supply test point")
    return rails
