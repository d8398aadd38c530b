"""Electrical rules check and the KiCad netlist, through SKiDL."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from hat.design.builder import Builder, erc_logger, skidl


@dataclass(frozen=True)
class ErcReport:
    errors: int
    warnings: int
    messages: tuple[str, ...]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


def erc(b: Builder) -> ErcReport:
    """SKiDL's ERC: pin-type conflicts, undriven inputs, unconnected pins, lonely nets."""
    collect = _Collect()
    erc_logger.addHandler(collect)
    try:
        b.circuit.ERC()
    finally:
        erc_logger.removeHandler(collect)
    return ErcReport(erc_logger.error.count, erc_logger.warning.count, tuple(collect.messages))


def kicad_netlist(b: Builder) -> str:
    """KiCad 9 netlist (importable into Pcbnew), reproducible: no date, fixed source name."""
    text = str(b.circuit.generate_netlist(tool=skidl.KICAD9, do_backup=False, track_src=False))
    text = re.sub(r'\(date "[^"]*"\)', '(date "")', text)
    return re.sub(r'\(source "[^"]*"\)', '(source "hat/build.py")', text)
