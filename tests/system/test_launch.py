"""How evse-pilot.service starts the pilot: simulated or real HAT, pigpio or sysfs PWM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.system.launch import Hardware, detect, pilot_argv, prepare_sysfs_pwm, pwm_backend

PI4 = Hardware(("raspberrypi,4-model-b", "brcm,bcm2711"), pigpiod=True)
PI5 = Hardware(("raspberrypi,5-model-b", "brcm,bcm2712"), pigpiod=True)
DEBIAN_PI3 = Hardware(("raspberrypi,3-model-b", "brcm,bcm2837"), pigpiod=False)


def test_detect_reads_the_device_tree(tmp_path: Path) -> None:
    (tmp_path / "proc/device-tree").mkdir(parents=True)
    (tmp_path / "proc/device-tree/compatible").write_bytes(b"raspberrypi,5-model-b\0brcm,bcm2712\0")
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/bin/pigpiod").touch()
    assert detect(tmp_path) == PI5
    assert detect(tmp_path / "nowhere") == Hardware((), pigpiod=False)


@pytest.mark.parametrize(("hw", "setting", "backend"), [
    (PI4, "auto", "pigpio"),
    (PI5, "auto", "sysfs"),  # pigpio does not support the Pi 5
    (DEBIAN_PI3, "auto", "sysfs"),  # no pigpiod on Debian
    (DEBIAN_PI3, "", "sysfs"),
    (PI4, "sysfs", "sysfs"),
    (PI5, "pigpio", "pigpio"),  # an explicit choice wins
])
def test_pwm_backend(hw: Hardware, setting: str, backend: str) -> None:
    assert pwm_backend({"EVSE_PWM": setting}, hw) == backend


def test_the_appliance_defaults_give_a_real_time_pilot_on_the_socket() -> None:
    env = {"EVSE_SIM": "0", "EVSE_PWM": "auto", "EVSE_PILOT_CPU": "", "EVSE_PILOT_SOCKET": "/run/evse/pilot.sock"}
    assert pilot_argv(env, PI4) == ["pilot", "--socket", "/run/evse/pilot.sock", "--config", "/etc/evse/pilot.toml",
                                    "--pwm", "pigpio", "--realtime"]


def test_the_demo_switch_runs_the_simulated_hat_pinned_to_a_cpu() -> None:
    argv = pilot_argv({"EVSE_SIM": "1", "EVSE_PILOT_CPU": "3", "EVSE_REALTIME": "no"}, PI5)
    assert "--sim" in argv and "--pwm" not in argv and "--realtime" not in argv
    assert argv[-2:] == ["--cpu", "3"]


@pytest.mark.parametrize("env", [{"EVSE_SIM": "maybe"}, {"EVSE_PWM": "gpio"}, {"EVSE_PILOT_CPU": "x"}])
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        pilot_argv(env, PI4)


def test_sysfs_channels_are_handed_to_the_pwm_group(tmp_path: Path) -> None:
    chip = tmp_path / "pwmchip0"
    for channel in (0, 1):  # what the kernel creates on export
        (chip / f"pwm{channel}").mkdir(parents=True)
        for attr in ("period", "duty_cycle", "enable"):
            (chip / f"pwm{channel}" / attr).write_text("0")
            os.chmod(chip / f"pwm{channel}" / attr, 0o644)

    prepare_sysfs_pwm(chip, [0, 1], os.getgid())

    for channel in (0, 1):
        assert (chip / f"pwm{channel}/duty_cycle").stat().st_mode & 0o060 == 0o060
