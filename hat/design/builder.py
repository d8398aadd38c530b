"""A thin layer over SKiDL: parts from `PartSpec`s, connected by pin name, with a role.

Every part carries a role ("S1 CP detectors", "ADC"...) so documents, simulations and tests
find parts by what they do rather than by reference designator.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hat.design.parts import TEST_POINT, Kind, PartSpec
from hat.design.passives import capacitor, engineering, resistor

# SKiDL complains at import that no KiCad libraries are installed (this design needs none)
# and opens log files in the working directory. Silence both; ERC results are collected
# through a handler in hat.outputs.kicad instead.
logging.disable(logging.WARNING)
import skidl  # noqa: E402
from skidl.logger import erc_logger, rt_logger  # noqa: E402

logging.disable(logging.NOTSET)
for _logger in (erc_logger, rt_logger):
    _logger.stop_file_output()
    for _handler in list(_logger.handlers):
        _logger.removeHandler(_handler)
    _logger.addHandler(logging.NullHandler())


class NoConnect:
    """Marks a pin that is deliberately left open."""


NC = NoConnect()

_FUNC = {
    Kind.IN: skidl.Pin.types.INPUT,
    Kind.OUT: skidl.Pin.types.OUTPUT,
    Kind.TRI: skidl.Pin.types.TRISTATE,
    Kind.BIDIR: skidl.Pin.types.BIDIR,
    Kind.PASSIVE: skidl.Pin.types.PASSIVE,
    Kind.PWR_IN: skidl.Pin.types.PWRIN,
    Kind.PWR_OUT: skidl.Pin.types.PWROUT,
    Kind.NC: skidl.Pin.types.NOCONNECT,
}

Target = Any  # a skidl Net or NC


@dataclass
class PartRecord:
    """What the design knows about a placed part beyond SKiDL's view of it."""

    part: Any
    spec: PartSpec
    role: str
    spice_value: str = ""


@dataclass
class Builder:
    circuit: Any = field(default_factory=skidl.Circuit)
    records: list[PartRecord] = field(default_factory=list)
    _nets: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.circuit.no_files = True

    # -- nets ---------------------------------------------------------------------------
    def net(self, name: str) -> Any:
        """The net called `name`, created on first use."""
        if name not in self._nets:
            self._nets[name] = skidl.Net(name, circuit=self.circuit)
        return self._nets[name]

    def net_names(self) -> list[str]:
        return list(self._nets)

    def rail(self, name: str) -> Any:
        """A supply net whose source is off this sheet (the Pi, an isolated return)."""
        net = self.net(name)
        net.drive = skidl.Pin.drives.POWER
        return net

    # -- parts --------------------------------------------------------------------------
    def add(self, spec: PartSpec, role: str, conn: Mapping[str, Target], value: str = "",
            spice_value: str = "") -> Any:
        """Place `spec` and connect its pins by name; every pin must be named in `conn`."""
        missing = {p.name for p in spec.pins if p.kind is not Kind.NC} - set(conn)
        unknown = set(conn) - {p.name for p in spec.pins}
        if missing or unknown:
            raise ValueError(f"{spec.name} ({role}): unconnected {sorted(missing)}, "
                             f"unknown {sorted(unknown)}")
        part = skidl.Part(
            tool=skidl.SKIDL, name=spec.name, ref_prefix=spec.prefix,
            pins=[skidl.Pin(num=p.num, name=p.name, func=_FUNC[p.kind]) for p in spec.pins],
            footprint=spec.footprint, value=value or spec.name, circuit=self.circuit,
        )
        part.tag = part.ref
        part.fields["MPN"] = spec.mpn
        part.fields["Manufacturer"] = spec.manufacturer
        part.fields["Role"] = role
        for pin in part.pins:
            target = conn.get(pin.name)
            if target is None:
                continue
            net = self.circuit.NC if target is NC else target
            net += pin
        self.records.append(PartRecord(part, spec, role, spice_value))
        return part

    def r(self, ohms: float, a: Target, b: Target, role: str, size: str = "0603") -> Any:
        return self.add(resistor(ohms, size), role, {"1": a, "2": b}, engineering(ohms),
                        f"{ohms:g}")

    def c(self, farads: float, a: Target, b: Target, role: str, dielectric: str = "X7R",
          size: str = "0603", volts: int = 50) -> Any:
        return self.add(capacitor(farads, dielectric, size, volts), role, {"1": a, "2": b},
                        engineering(farads, "F"), f"{farads:g}")

    def tp(self, net: Target, role: str) -> Any:
        """A test pad on `net` for bring-up and production test."""
        return self.add(TEST_POINT, role, {"1": net})

    def decouple(self, rail: Target, gnd: Target, role: str, farads: float = 100e-9) -> Any:
        """The local bypass capacitor every supply pin gets."""
        volts = 25 if farads >= 1e-6 else 50
        size = "0805" if farads >= 10e-6 else "0603"
        dielectric = "X5R" if farads >= 10e-6 else "X7R"
        return self.c(farads, rail, gnd, role, dielectric, size, volts)
