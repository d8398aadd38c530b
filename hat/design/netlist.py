"""A plain, tool-independent view of the built circuit: parts, pins, nets.

Documents, simulation decks and tests read this instead of SKiDL's objects, so they do not
depend on SKiDL internals and can look parts up by role and pins by name.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from skidl.net import NCNet

from hat.design.builder import Builder
from hat.design.parts import PartSpec


@dataclass(frozen=True)
class PartInfo:
    ref: str
    spec: PartSpec
    role: str
    value: str
    spice_value: str
    pins: dict[str, str]     # pin name -> net name ("" = not connected)

    def net(self, pin: str) -> str:
        return self.pins[pin]


@dataclass(frozen=True)
class Netlist:
    parts: dict[str, PartInfo]
    nets: dict[str, tuple[tuple[str, str], ...]]   # net -> ((ref, pin name), ...)

    def by_role(self, role: str) -> list[PartInfo]:
        return [p for p in self.parts.values() if p.role == role]

    def one(self, role: str, name: str | None = None) -> PartInfo:
        """The single part with `role` (and part name `name`, if given)."""
        found = [p for p in self.by_role(role) if name is None or p.spec.name == name]
        if len(found) != 1:
            raise LookupError(f"{len(found)} parts with role {role!r} and name {name!r}")
        return found[0]

    def pins_on(self, net: str) -> tuple[tuple[str, str], ...]:
        return self.nets.get(net, ())

    def through_resistors(self, net: str) -> set[str]:
        """Nets reachable from `net` through exactly one resistor, plus `net` itself."""
        reached = {net}
        for ref, _ in self.pins_on(net):
            part = self.parts[ref]
            if part.spec.prefix == "R":
                reached.update(n for n in part.pins.values() if n)
        return reached


def netlist_of(b: Builder) -> Netlist:
    b.circuit.merge_net_names()
    parts: dict[str, PartInfo] = {}
    nets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rec in b.records:
        pins: dict[str, str] = {}
        for pin in rec.part.pins:
            name = "" if pin.net is None or isinstance(pin.net, NCNet) else pin.net.name
            pins[pin.name] = name
            if name:
                nets[name].append((rec.part.ref, pin.name))
        parts[rec.part.ref] = PartInfo(rec.part.ref, rec.spec, rec.role,
                                       str(rec.part.value), rec.spice_value, pins)
    return Netlist(parts, {k: tuple(v) for k, v in nets.items()})
