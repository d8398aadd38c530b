"""Regenerate everything in hat/ from hat/board.toml: `python -m hat.build [--no-sim]`.

Writes the KiCad netlist, ERC report, BOM, pin map, EEPROM settings, device-tree overlay and,
unless --no-sim, runs the ngspice cases and writes their raw measurements.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from appliance.board import BoardDescription, load_board
from hat.design.builder import Builder
from hat.design.circuit import build
from hat.design.netlist import Netlist, netlist_of
from hat.outputs.bom import BomLine, bom, bom_csv, total
from hat.outputs.eeprom import eeprom_settings
from hat.outputs.kicad import ErcReport, erc, kicad_netlist
from hat.outputs.overlay import overlay_dts
from hat.outputs.pinmap import pinmap, pinmap_csv
from hat.paths import BOARD_TOML, EEPROM_SETTINGS, GENERATED, OVERLAY_DTS
from hat.sim import ngspice
from hat.sim.cases import standard_cases
from hat.sim.deck import Case, deck


@dataclass(frozen=True)
class Design:
    board: BoardDescription
    builder: Builder
    netlist: Netlist
    erc: ErcReport
    bom: list[BomLine]


def design(board_toml: Path = BOARD_TOML) -> Design:
    board = load_board(board_toml)
    b = build(board)
    report = erc(b)
    netlist = netlist_of(b)
    return Design(board, b, netlist, report, bom(netlist))


def documents(d: Design) -> dict[Path, str]:
    """Every generated text file, keyed by where it belongs."""
    erc_text = "\n".join([f"errors {d.erc.errors}", f"warnings {d.erc.warnings}",
                          *d.erc.messages, ""])
    return {
        GENERATED / "evse-hat.net": kicad_netlist(d.builder),
        GENERATED / "erc.txt": erc_text,
        GENERATED / "bom.csv": bom_csv(d.bom),
        GENERATED / "pinmap.csv": pinmap_csv(pinmap(d.netlist, d.board)),
        EEPROM_SETTINGS: eeprom_settings(d.board),
        OVERLAY_DTS: overlay_dts(d.board),
    }


def simulate(d: Design, workdir: Path, cases: list[Case] | None = None,
             ) -> dict[str, dict[str, float]]:
    cases = cases if cases is not None else standard_cases()
    decks = {c.name: deck(d.netlist, d.board, c) for c in cases}
    return ngspice.run_all(decks, workdir)


def results_csv(results: dict[str, dict[str, float]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["case", "measurement", "value"])
    for case, values in results.items():
        for name, value in values.items():
            writer.writerow([case, name, f"{value:.6g}"])
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-sim", action="store_true", help="skip the ngspice cases")
    args = parser.parse_args(argv)

    d = design()
    for path, text in documents(d).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(BOARD_TOML.parent.parent)}")
    print(f"ERC: {d.erc.errors} errors, {d.erc.warnings} warnings")
    print(f"BOM: {sum(line.quantity for line in d.bom)} parts, total ${total(d.bom):.2f}")
    if not args.no_sim:
        if not ngspice.available():
            print("ngspice not found: simulation skipped (apt-get install ngspice)")
        else:
            results = simulate(d, GENERATED / "spice")
            (GENERATED / "simulation.csv").write_text(results_csv(results), encoding="utf-8")
            print(f"simulated {len(results)} cases with {ngspice.version()}")
    return 1 if d.erc.errors else 0


if __name__ == "__main__":
    sys.exit(main())
