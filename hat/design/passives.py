"""Resistors and capacitors: value -> part spec with an orderable part number.

Resistors follow Yageo's RC series numbering, so any E96 value is orderable without a table.
Capacitors need dielectric and voltage choices, so they come from an explicit catalogue:
asking for one that is not listed is a design error, not a silent substitution.
"""

from __future__ import annotations

import math

from hat.design.parts import PartSpec, pins

_TWO_PINS = pins("1:1:passive", "2:2:passive")
_RESISTOR_COST = {"0603": 0.01, "1206": 0.02, "2512": 0.12}
_RESISTOR_POWER = {"0603": "0.1 W", "1206": "0.25 W, 200 V", "2512": "1 W"}
_METRIC = {"0603": "1608", "0805": "2012", "1206": "3216", "2512": "6332"}


def engineering(value: float, unit: str = "") -> str:
    """'26.7k', '100n', '4.7u': the value as printed on a schematic."""
    prefixes = ((1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "u"), (1e-9, "n"),
                (1e-12, "p"))
    for scale, prefix in prefixes:
        if abs(value) >= scale * 0.999:
            return f"{value / scale:.4g}{prefix}{unit}"
    return f"{value:g}{unit}"


def _yageo_code(ohms: float) -> str:
    """Yageo value code: 100k -> '100K', 26.7k -> '26K7', 22 -> '22R', 4.7 -> '4R7'."""
    for scale, letter in ((1e6, "M"), (1e3, "K"), (1.0, "R")):
        if ohms >= scale:
            text = f"{ohms / scale:.3g}"
            return text.replace(".", letter) if "." in text else text + letter
    raise ValueError(f"no code for {ohms} Ohm")


E96_MANTISSAS = (
    100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137, 140, 143, 147, 150,
    154, 158, 162, 165, 169, 174, 178, 182, 187, 191, 196, 200, 205, 210, 215, 221, 226, 232,
    237, 243, 249, 255, 261, 267, 274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357,
    365, 374, 383, 392, 402, 412, 422, 432, 442, 453, 464, 475, 487, 499, 511, 523, 536, 549,
    562, 576, 590, 604, 619, 634, 649, 665, 681, 698, 715, 732, 750, 768, 787, 806, 825, 845,
    866, 887, 909, 931, 953, 976,
)


def e96(ohms: float) -> float:
    """The E96 (1 %) value nearest to `ohms`, compared on a log scale."""
    decade = 10 ** math.floor(math.log10(ohms) - 2)
    candidates = [float(f"{m * decade:.6g}") for m in (*E96_MANTISSAS, 1000)]
    return min(candidates, key=lambda v: abs(math.log(v / ohms)))


def resistor(ohms: float, size: str = "0603") -> PartSpec:
    """A 1 % thick-film resistor of the given case size."""
    if not math.isfinite(ohms) or ohms <= 0:
        raise ValueError(f"bad resistance {ohms}")
    series = "RC2512FK-07" if size == "2512" else f"RC{size}FR-07"
    return PartSpec(
        "R", "R", _TWO_PINS,
        f"Resistor_SMD:R_{size}_{_METRIC[size]}Metric",
        f"{series}{_yageo_code(ohms)}L", "Yageo", _RESISTOR_COST[size],
        f"Resistor {engineering(ohms)} 1 % {size} {_RESISTOR_POWER[size]}",
        spice="R{ref} {1} {2} {value}",
    )


# (farads, dielectric, size, volts) -> (part number, unit cost)
_CAPACITORS: dict[tuple[float, str, str, int], tuple[str, float]] = {
    (15e-12, "C0G", "0603", 50): ("GRM1885C1H150JA01D", 0.02),
    (100e-12, "C0G", "0603", 50): ("GRM1885C1H101JA01D", 0.02),
    (1e-9, "C0G", "0603", 50): ("GRM1885C1H102JA01D", 0.02),
    (10e-9, "X7R", "0603", 50): ("GRM188R71H103KA01D", 0.02),
    (33e-9, "X7R", "0603", 50): ("GRM188R71H333KA61D", 0.02),
    (100e-9, "X7R", "0603", 50): ("GRM188R71H104KA93D", 0.02),
    (100e-9, "C0G", "1206", 50): ("GRM31C5C1H104JA01L", 0.25),
    (470e-9, "X7R", "1206", 50): ("GRM31MR71H474KA01L", 0.08),
    (1e-6, "X7R", "0603", 25): ("GRM188R71E105KA12D", 0.04),
    (10e-6, "X5R", "0805", 25): ("GRM21BR61E106KA73L", 0.08),
}


def capacitor(farads: float, dielectric: str = "X7R", size: str = "0603",
              volts: int = 50) -> PartSpec:
    """A ceramic capacitor from the catalogue above."""
    key = (farads, dielectric, size, volts)
    if key not in _CAPACITORS:
        raise KeyError(f"capacitor {engineering(farads, 'F')} {dielectric} {size} {volts} V "
                       "is not in the catalogue")
    mpn, cost = _CAPACITORS[key]
    return PartSpec(
        "C", "C", _TWO_PINS,
        f"Capacitor_SMD:C_{size}_{_METRIC[size]}Metric", mpn, "Murata", cost,
        f"Capacitor {engineering(farads, 'F')} {dielectric} {volts} V {size}",
        spice="C{ref} {1} {2} {value}",
    )
