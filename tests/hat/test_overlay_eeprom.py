"""Device-tree overlay and HAT EEPROM settings, generated from the board description."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from hat.build import Design
from hat.outputs.eeprom import board_fingerprint, eeprom_settings
from hat.outputs.overlay import overlay_dts


def test_overlay_sets_up_spi0_cs_and_pwm(hat_design: Design) -> None:
    board = hat_design.board
    dts = overlay_dts(board)
    assert re.search(r"cs-gpios = <&gpio 8 1>, <&gpio 7 1>, <&gpio 25 1>;", dts)
    assert dts.count('compatible = "rohm,dh2228fv";') == 3
    for cs, hz in ((0, board.adc.max_speed_hz), (1, board.meter.max_speed_hz),
                   (2, board.meter.max_speed_hz)):
        assert re.search(rf"spidev@{cs} {{[^}}]*reg = <{cs}>;\s*spi-max-frequency = <{hz}>;",
                         dts)
    pwm = " ".join(str(p.pilot_pwm) for p in board.gpio.stations)
    assert f"brcm,pins = <{pwm}>;" in dts and "brcm,function = <4 4>;" in dts   # ALT0
    assert "dtparam=audio=off" in dts


@pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc (device-tree-compiler) not installed")
def test_overlay_compiles_with_dtc(hat_design: Design, tmp_path: Path) -> None:
    src, out = tmp_path / "evse-hat.dts", tmp_path / "evse-hat.dtbo"
    src.write_text(overlay_dts(hat_design.board), encoding="utf-8")
    done = subprocess.run(["dtc", "-@", "-I", "dts", "-O", "dtb", "-o", str(out), str(src)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    back = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(out)], capture_output=True,
                          text=True, check=True).stdout
    # three cs-gpios entries (phandle, pin, active low), GPIO25 = 0x19 last
    assert re.search(r"cs-gpios = <0xffffffff 0x08 0x01 0xffffffff 0x07 0x01 0xffffffff "
                     r"0x19 0x01>;", back)
    assert "spi0_cs_pins" in back and "pwm" in back     # fix-ups resolved at load time


def test_eeprom_settings(hat_design: Design) -> None:
    info = hat_design.board.board
    text = eeprom_settings(hat_design.board)
    settings = dict(line.split(" ", 1) for line in text.splitlines()
                    if line and not line.startswith("#") and " " in line)
    assert settings["product_id"] == f"{info.product_id:#06x}"
    assert settings["product_ver"] == f"{info.product_version:#06x}"
    assert settings["vendor"] == f'"{info.vendor}"'
    assert settings["product"] == f'"{info.product}"'
    assert settings["dt_blob"] == f'"{info.overlay}"'
    assert settings["current_supply"] == "0"
    custom = text.split("custom_data\n", 1)[1].split("\nend", 1)[0]
    assert bytes.fromhex(custom).decode() == (
        f"board-description-sha256:{board_fingerprint(hat_design.board)}")
