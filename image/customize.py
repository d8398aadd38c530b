"""Turn a Raspberry Pi OS root file system and its boot partition into the EVSE appliance.

Only file operations on two directory trees, so it runs unchanged on a mounted image, on the
Debian stand-in and on a small fake root in the test suite. What needs arm64 programs (the
appliance's venv, systemd-sysusers) is done afterwards in a chroot by image/build-image.sh.

    python3 -m image.customize ROOT BOOT
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from appliance.system.files import replace_line, set_hostname
from hat.paths import BOARD_TOML, OVERLAY_DTS

REPO = Path(__file__).resolve().parent.parent
SERVICES = REPO / "services"
HOSTNAME = "evse"
DATA_MOUNT = "var/lib/evse"
FSTAB_DATA = "LABEL=EVSEDATA  /var/lib/evse  ext4  defaults,noatime,nofail,x-systemd.device-timeout=30s  0  2"
BLOCK_BEGIN = "# --- EVSE appliance: do not edit between these lines (image/customize.py) ---"
BLOCK_END = "# --- end of EVSE appliance ---"
FIRSTBOOT_EXAMPLE = "evse.toml.example"


@dataclass(frozen=True)
class Install:
    source: str  # under services/
    dest: str  # under the root
    mode: int = 0o644


VENDOR_UNITS = "usr/lib/systemd/system"
FILES = (
    *(Install(f"systemd/{unit}", f"{VENDOR_UNITS}/{unit}") for unit in (
        "evse-pilot.service", "evse-supervisor.service", "evse-firstboot.service", "evse-growdata.service",
        "evse-update.service", "evse-update.path", "evse-http.socket", "evse-https.socket",
        "evse-pigpiod-firewall.service")),
    # In /etc: it must shadow the pigpio package's own unit of the same name.
    Install("systemd/pigpiod.service", "etc/systemd/system/pigpiod.service"),
    Install("sysusers.d/evse.conf", "usr/lib/sysusers.d/evse.conf"),
    Install("tmpfiles.d/evse.conf", "usr/lib/tmpfiles.d/evse.conf"),
    Install("journald/evse.conf", "usr/lib/systemd/journald.conf.d/evse.conf"),
    Install("avahi/evse-http.service", "etc/avahi/services/evse-http.service"),
    Install("udev/60-evse-hat.rules", "usr/lib/udev/rules.d/60-evse-hat.rules"),
    Install("bin/evse-python", "usr/lib/evse/evse-python", 0o755),
    Install("bin/grow-data-partition", "usr/lib/evse/grow-data-partition", 0o755),
    Install("nftables/pigpiod.nft", "usr/lib/evse/pigpiod.nft"),
    Install("etc/evse.env", "etc/evse/evse.env"),
    Install("etc/pilot.toml", "etc/evse/pilot.toml"),
)
ENABLED = ("evse-pilot.service", "evse-supervisor.service", "evse-firstboot.service", "evse-growdata.service",
           "evse-update.service", "evse-update.path", "evse-http.socket", "evse-https.socket", "pigpiod.service",
           "evse-pigpiod-firewall.service")


def overlay_name() -> str:
    return str(tomllib.loads(BOARD_TOML.read_text(encoding="utf-8"))["board"]["overlay"])


def config_lines() -> list[str]:
    """config.txt for every Pi model: SPI, the pilot PWM on GPIO12/13 (so no analogue audio) and
    the HAT's overlay (SPI0 with three chip selects)."""
    return ["[all]", "dtparam=spi=on", "dtparam=audio=off",
            "dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4", f"dtoverlay={overlay_name()}"]


def install_files(root: Path) -> None:
    for item in FILES:
        dest = root / item.dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SERVICES / item.source, dest)
        os.chmod(dest, item.mode)


def _unit_path(root: Path, unit: str) -> Path:
    for directory in ("etc/systemd/system", VENDOR_UNITS):
        if (root / directory / unit).exists():
            return Path("/") / directory / unit
    raise FileNotFoundError(f"unit {unit} is not installed under {root}")


def enable_units(root: Path, units: tuple[str, ...]) -> list[Path]:
    """What `systemctl enable` does for an [Install] section with WantedBy=, on a tree that may
    belong to another architecture."""
    links = []
    for unit in units:
        target_path = _unit_path(root, unit)
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string((root / target_path.relative_to("/")).read_text(encoding="utf-8"))
        wanted_by = parser.get("Install", "WantedBy", fallback="").split()
        if not wanted_by:
            raise ValueError(f"{unit} has no WantedBy= to enable it with")
        for target in wanted_by:
            link = root / "etc/systemd/system" / f"{target}.wants" / unit
            link.parent.mkdir(parents=True, exist_ok=True)
            link.unlink(missing_ok=True)
            link.symlink_to(target_path)
            links.append(link)
    return links


def edit_config_txt(path: Path, lines: list[str]) -> None:
    """Our block at the end (replacing an older one), and analogue audio switched off above it."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BLOCK_BEGIN in text:
        text = text[: text.index(BLOCK_BEGIN)] + text[text.index(BLOCK_END) + len(BLOCK_END):].lstrip("\n")
    kept = ["#" + line + "  # EVSE: the pilot PWM needs the PWM block" if line.strip() == "dtparam=audio=on" else line
            for line in text.splitlines()]
    path.write_text("\n".join([*kept, BLOCK_BEGIN, *lines, BLOCK_END]).lstrip("\n") + "\n", encoding="utf-8")


def compile_overlay(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{overlay_name()}.dtbo"
    subprocess.run(["dtc", "-@", "-q", "-I", "dts", "-O", "dtb", "-o", str(out), str(OVERLAY_DTS)],
                   check=True, capture_output=True)
    return out


def firstboot_example() -> str:
    """The template users copy to evse.toml; its text is the first-boot module's documentation."""
    from appliance.system import firstboot

    doc = (firstboot.__doc__ or "").split("\n\n")[1]
    return ("# EVSE first-boot settings. Copy this file to evse.toml on this partition, edit it and\n"
            "# start the charger: it is applied once and then deleted (it holds passwords).\n"
            "# The result is written to evse-firstboot.txt here.\n"
            + "".join(f"# {line.strip()}\n" for line in doc.splitlines()))


def customize(root: Path, boot: Path) -> None:
    install_files(root)
    enable_units(root, ENABLED)
    set_hostname(root, HOSTNAME)
    (root / DATA_MOUNT).mkdir(parents=True, exist_ok=True)
    (root / "opt/evse/versions").mkdir(parents=True, exist_ok=True)
    replace_line(root / "etc/fstab", r"^\S+\s+/var/lib/evse\s", FSTAB_DATA)
    compile_overlay(boot / "overlays")
    edit_config_txt(boot / "config.txt", config_lines())
    if (root / "etc/default/raspi-firmware").exists():
        # Debian regenerates config.txt on kernel updates and appends this file to it.
        (root / "etc/default/raspi-firmware-custom").write_text("\n".join(config_lines()) + "\n", encoding="utf-8")
    (boot / FIRSTBOOT_EXAMPLE).write_text(firstboot_example(), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python3 -m image.customize", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path, help="the root file system")
    parser.add_argument("boot", type=Path, help="the boot (firmware) partition")
    args = parser.parse_args(argv)
    customize(args.root, args.boot)


if __name__ == "__main__":
    main()
