"""Where the design's inputs and generated outputs live, relative to the repository."""

from __future__ import annotations

from pathlib import Path

HAT_DIR = Path(__file__).resolve().parent
BOARD_TOML = HAT_DIR / "board.toml"
GENERATED = HAT_DIR / "generated"
EEPROM_SETTINGS = HAT_DIR / "eeprom" / "eeprom_settings.txt"
OVERLAY_DTS = HAT_DIR / "overlay" / "evse-hat-overlay.dts"
