"""Start the pilot the way the appliance is set up: real or simulated HAT, and which PWM backend.

evse-pilot.service runs `launch prepare` as root, then `launch pilot` as evse-pilot. The settings come
from /etc/evse/evse.env; the hardware decides the rest: pigpiod drives the pilot PWM where it
runs (Pi 3, 4, Zero 2 W on Raspberry Pi OS), the kernel's sysfs PWM where it does not (Pi 5,
Debian kernels).
"""

from __future__ import annotations

import grp
import os
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PI5_COMPATIBLE = "brcm,bcm2712"  # pigpio does not support the Pi 5's RP1
DEFAULT_SOCKET = "/run/evse/pilot.sock"
DEFAULT_CONFIG = "/etc/evse/pilot.toml"
PWM_GROUP = "gpio"
PIGPIOD_WAIT_S = 10.0


@dataclass(frozen=True)
class Hardware:
    compatible: tuple[str, ...]
    pigpiod: bool


def detect(root: Path = Path("/")) -> Hardware:
    """What the device tree says the board is, and whether pigpiod is installed."""
    try:
        raw = (root / "proc/device-tree/compatible").read_bytes()
    except OSError:
        raw = b""
    compatible = tuple(c.decode(errors="replace") for c in raw.split(b"\0") if c)
    return Hardware(compatible=compatible, pigpiod=(root / "usr/bin/pigpiod").exists())


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "yes", "true", "on"):
        return True
    if value in ("0", "no", "false", "off"):
        return False
    raise ValueError(f"{name}={value!r}: use 1 or 0")


def pwm_backend(env: Mapping[str, str], hw: Hardware) -> str:
    setting = env.get("EVSE_PWM", "auto").strip() or "auto"
    if setting in ("pigpio", "sysfs"):
        return setting
    if setting != "auto":
        raise ValueError(f"EVSE_PWM={setting!r}: use auto, pigpio or sysfs")
    return "pigpio" if hw.pigpiod and PI5_COMPATIBLE not in hw.compatible else "sysfs"


def pilot_argv(env: Mapping[str, str], hw: Hardware) -> list[str]:
    """`evse` arguments for the pilot from the service environment."""
    argv = ["pilot", "--socket", env.get("EVSE_PILOT_SOCKET") or DEFAULT_SOCKET]
    config = env.get("EVSE_PILOT_CONFIG", DEFAULT_CONFIG)
    if config:
        argv += ["--config", config]
    if _flag(env, "EVSE_SIM"):
        argv.append("--sim")
    else:
        argv += ["--pwm", pwm_backend(env, hw)]
    if _flag(env, "EVSE_REALTIME", default=True):
        argv.append("--realtime")
    cpu = env.get("EVSE_PILOT_CPU", "").strip()
    if cpu:
        argv += ["--cpu", str(int(cpu))]
    return argv


def prepare_sysfs_pwm(chip: Path, channels: list[int], gid: int, timeout_s: float = 2.0) -> None:
    """Export the pilot's PWM channels and give them to `gid` before the unprivileged pilot starts,
    so it never races udev for the permissions of a channel it just exported."""
    for channel in channels:
        pwm = chip / f"pwm{channel}"
        if not pwm.is_dir():
            (chip / "export").write_text(str(channel))
        deadline = time.monotonic() + timeout_s
        while not (pwm / "enable").exists():
            if time.monotonic() > deadline:
                raise OSError(f"{pwm}: did not appear after export")
            time.sleep(0.02)
        for path in [pwm, *pwm.iterdir()]:
            if path.is_symlink():
                continue
            os.chown(path, -1, gid)
            os.chmod(path, path.stat().st_mode | 0o060)


def wait_for_pigpiod(host: str = "localhost", port: int = 8888, timeout_s: float = PIGPIOD_WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)


def prepare(env: Mapping[str, str], hw: Hardware) -> None:
    """Root's share of the start-up (ExecStartPre=+)."""
    if _flag(env, "EVSE_SIM"):
        return
    if pwm_backend(env, hw) == "sysfs":
        from appliance.drivers.hat import DEFAULT_PWM_CHIP, SYSFS_PWM_CHANNEL

        prepare_sysfs_pwm(DEFAULT_PWM_CHIP, sorted(SYSFS_PWM_CHANNEL.values()), grp.getgrnam(PWM_GROUP).gr_gid)
    elif not wait_for_pigpiod():
        print(f"evse launch: pigpiod not answering after {PIGPIOD_WAIT_S:g} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["pilot"], ["prepare"]):
        print("usage: python -m appliance.system.launch pilot|prepare", file=sys.stderr)
        return 2
    hw = detect()
    try:
        if args == ["prepare"]:
            prepare(os.environ, hw)
            return 0
        pilot = pilot_argv(os.environ, hw)
    except (ValueError, OSError, KeyError) as exc:
        print(f"evse launch: {exc}", file=sys.stderr)
        return 2
    from appliance.cli import main as evse

    return evse(pilot)


if __name__ == "__main__":
    raise SystemExit(main())
