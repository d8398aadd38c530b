"""Bill of materials: one line per orderable part, with quantities and indicative cost."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass

from hat.design.netlist import Netlist


@dataclass(frozen=True)
class BomLine:
    refs: tuple[str, ...]
    value: str
    description: str
    manufacturer: str
    mpn: str
    footprint: str
    unit_cost: float
    pinout_checked: bool

    @property
    def quantity(self) -> int:
        return len(self.refs)

    @property
    def extended_cost(self) -> float:
        return self.quantity * self.unit_cost


def _natural(ref: str) -> tuple[str, int]:
    prefix, number = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()  # type: ignore[union-attr]
    return prefix, int(number)


def bom(netlist: Netlist) -> list[BomLine]:
    """Parts grouped by part number, most expensive lines first."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for part in netlist.parts.values():
        if part.spec.in_bom:
            groups[(part.spec.mpn, part.value)].append(part.ref)
    lines = []
    for refs in groups.values():
        first = netlist.parts[refs[0]]
        spec = first.spec
        lines.append(BomLine(tuple(sorted(refs, key=_natural)), first.value, spec.description,
                             spec.manufacturer, spec.mpn, spec.footprint, spec.unit_cost,
                             spec.pinout_checked))
    return sorted(lines, key=lambda line: (-line.extended_cost, line.mpn))


def total(lines: list[BomLine]) -> float:
    return round(sum(line.extended_cost for line in lines), 2)


def bom_csv(lines: list[BomLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["quantity", "references", "value", "description", "manufacturer", "mpn",
                     "footprint", "unit_cost_usd", "extended_cost_usd", "note"])
    for line in lines:
        writer.writerow([line.quantity, " ".join(line.refs), line.value, line.description,
                         line.manufacturer, line.mpn, line.footprint, f"{line.unit_cost:.2f}",
                         f"{line.extended_cost:.2f}",
                         "" if line.pinout_checked else "verify pin numbers before layout"])
    writer.writerow(["", "", "", "total", "", "", "", "", f"{total(lines):.2f}", ""])
    return out.getvalue()
