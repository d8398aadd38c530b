"""The image customisation on a small root file system: units enabled, config.txt, users and
permissions, the first-boot template, and no secret in anything it writes."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from appliance.pilot.config import load_pilot_config
from image.customize import BLOCK_BEGIN, ENABLED, customize
from image.secretscan import KEYS_AND_HASHES, scan

pytestmark = pytest.mark.skipif(shutil.which("dtc") is None, reason="dtc (device-tree-compiler) not installed")
REPO = Path(__file__).resolve().parents[2]
RPI_OS_CONFIG = "# Raspberry Pi OS\ndtparam=audio=on\ncamera_auto_detect=1\n[cm4]\notg_mode=1\n[all]\n"
SETTINGS = [
    re.compile(rb"^\s*psk\s*=", re.M),  # Wi-Fi keys
    re.compile(rb"^\s*admin_password\s*=", re.M),  # a first-boot file left behind
]


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A Raspberry Pi OS-shaped root and boot partition, customised twice (it must be idempotent)."""
    base = tmp_path_factory.mktemp("card")
    root, boot = base / "root", base / "boot"
    (root / "etc").mkdir(parents=True)
    boot.mkdir()
    (root / "etc/hostname").write_text("raspberrypi\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (root / "etc/fstab").write_text("PARTUUID=5e3da3da-01 /boot/firmware vfat defaults 0 2\n"
                                    "PARTUUID=5e3da3da-02 / ext4 defaults,noatime 0 1\n")
    (boot / "config.txt").write_text(RPI_OS_CONFIG)
    customize(root, boot)
    customize(root, boot)
    return root, boot


def unit(root: Path, name: str) -> configparser.ConfigParser:
    path = next(p for p in (root / "usr/lib/systemd/system" / name, root / "etc/systemd/system" / name) if p.exists())
    parser = configparser.ConfigParser(interpolation=None, strict=False)  # DeviceAllow= repeats
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def test_units_are_enabled(card: tuple[Path, Path]) -> None:
    root, _ = card
    wants = root / "etc/systemd/system"
    for name in ENABLED:
        target = unit(root, name)["Install"]["WantedBy"]
        link = wants / f"{target}.wants" / name
        assert link.is_symlink(), name
        assert (root / os.readlink(link).lstrip("/")).is_file(), name
    assert os.readlink(wants / "multi-user.target.wants/pigpiod.service") == "/etc/systemd/system/pigpiod.service"
    assert (wants / "sockets.target.wants/evse-http.socket").is_symlink()
    assert (wants / "sockets.target.wants/evse-https.socket").is_symlink()


def test_ports_80_and_443_are_the_supervisors_own_sockets(card: tuple[Path, Path]) -> None:
    """systemd binds them and hands them to the supervisor: no forwarder, so it sees real clients."""
    root, _ = card
    for name, port, fd_name in (("evse-http.socket", "80", "http"), ("evse-https.socket", "443", "https")):
        socket_unit = unit(root, name)["Socket"]
        assert (socket_unit["ListenStream"], socket_unit["FileDescriptorName"]) == (port, fd_name)
        assert socket_unit["Service"] == "evse-supervisor.service"
    supervisor = unit(root, "evse-supervisor.service")
    assert supervisor["Service"]["Sockets"].split() == ["evse-http.socket", "evse-https.socket"]
    assert {"evse-http.socket", "evse-https.socket"} <= set(supervisor["Unit"]["After"].split())
    assert not (root / "usr/lib/systemd/system/evse-http.service").exists()
    units = "".join(p.read_text() for p in (root / "usr/lib/systemd/system").glob("evse-*"))
    assert "socket-proxyd" not in units


def test_the_pilot_is_real_time_watched_and_independent_of_the_supervisor(card: tuple[Path, Path]) -> None:
    root, _ = card
    pilot = unit(root, "evse-pilot.service")
    service = pilot["Service"]
    assert service["Type"] == "notify" and service["WatchdogSec"] == "5s" and service["Restart"] == "on-failure"
    assert service["LimitRTPRIO"] == "50" and service["LimitMEMLOCK"] == "infinity"
    assert "launch pilot" in service["ExecStart"]
    assert (service["User"], service["Group"], service["RuntimeDirectory"]) == ("evse-pilot", "evse-ipc", "evse")
    assert set(service["SupplementaryGroups"].split()) == {"gpio", "spi"}
    assert "evse-supervisor.service" in pilot["Unit"]["Before"]
    assert not any("supervisor" in pilot["Unit"].get(k, "") for k in ("Requires", "Wants", "BindsTo", "After"))
    supervisor = unit(root, "evse-supervisor.service")["Unit"]
    assert "evse-pilot.service" in supervisor["Wants"] and "evse-pilot.service" in supervisor["After"]
    assert "Requires" not in supervisor and "BindsTo" not in supervisor
    data = unit(root, "evse-supervisor.service")
    assert (data["Service"]["StateDirectory"], data["Service"]["StateDirectoryMode"]) == ("evse", "0750")
    assert "/var/lib/evse" in data["Unit"]["RequiresMountsFor"]
    assert (data["Service"]["RuntimeDirectory"], data["Service"]["RuntimeDirectoryPreserve"]) == \
        ("evse-supervisor", "restart")
    assert data["Service"]["Environment"] == "EVSE_SPOOL_DIR=/run/evse-supervisor"  # RAM, not the SD card


def test_pigpiod_listens_on_localhost_only(card: tuple[Path, Path]) -> None:
    pigpiod = unit(card[0], "pigpiod.service")
    assert pigpiod["Service"]["ExecStart"].split()[1:].count("-l") == 1
    assert "bcm2712" in pigpiod["Unit"]["ConditionFirmware"]  # never on the Pi 5


def test_pilot_socket_is_0660_for_the_service_group(tmp_path: Path) -> None:
    """What the unit relies on: the pilot makes its socket 0660; the unit's Group=evse owns it."""
    sock = tmp_path / "run" / "pilot.sock"
    pilot = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(sock)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        st = sock.stat()
    finally:
        pilot.terminate()
        pilot.wait(timeout=10)
    assert st.st_mode & 0o777 == 0o660
    assert st.st_gid == os.getgid()


def test_users_groups_and_data_permissions(card: tuple[Path, Path]) -> None:
    root, _ = card
    sysusers = [line.split() for line in (root / "usr/lib/sysusers.d/evse.conf").read_text().splitlines()
                if line and not line.startswith("#")]
    users = {line[1]: line for line in sysusers if line[0] == "u"}
    assert set(users) == {"evse", "evse-pilot"} and all(u[-1] == "/usr/sbin/nologin" for u in users.values())
    assert ["m", "evse-pilot", "gpio"] in sysusers and ["m", "evse-pilot", "spi"] in sysusers
    assert ["m", "evse", "evse-ipc"] in sysusers
    tmpfiles = (root / "usr/lib/tmpfiles.d/evse.conf").read_text()
    assert re.search(r"^d /var/lib/evse\s+0750 evse evse", tmpfiles, re.M)
    assert "LABEL=EVSEDATA  /var/lib/evse  ext4" in (root / "etc/fstab").read_text()
    assert (root / "etc/fstab").read_text().count("EVSEDATA") == 1
    assert (root / "var/lib/evse").is_dir()
    for tool in ("usr/lib/evse/evse-python", "usr/lib/evse/grow-data-partition"):
        assert os.stat(root / tool).st_mode & 0o111, tool
    assert "tcp dport 8888" in (root / "usr/lib/evse/pigpiod.nft").read_text()
    assert "SUBSYSTEM==\"spidev\", GROUP=\"spi\"" in (root / "usr/lib/udev/rules.d/60-evse-hat.rules").read_text()


def test_journald_avahi_and_hostname(card: tuple[Path, Path]) -> None:
    root, _ = card
    journal = configparser.ConfigParser()
    journal.read_string((root / "usr/lib/systemd/journald.conf.d/evse.conf").read_text())
    assert journal["Journal"]["Storage"] == "volatile" and journal["Journal"]["RuntimeMaxUse"] == "48M"
    service = ET.parse(root / "etc/avahi/services/evse-http.service").getroot().find("service")
    assert service is not None
    assert (service.findtext("type"), service.findtext("port")) == ("_http._tcp", "80")
    services = ET.parse(root / "etc/avahi/services/evse-http.service").getroot().findall("service")
    assert ("_https._tcp", "443") in [(s.findtext("type"), s.findtext("port")) for s in services]
    assert (root / "etc/hostname").read_text() == "evse\n"
    assert "127.0.1.1\tevse" in (root / "etc/hosts").read_text()
    assert unit(root, "evse-http.socket")["Socket"]["ListenStream"] == "80"


def test_config_txt_and_overlay(card: tuple[Path, Path]) -> None:
    _, boot = card
    config = (boot / "config.txt").read_text()
    assert config.count(BLOCK_BEGIN) == 1
    block = config[config.index(BLOCK_BEGIN):].splitlines()[1:-1]
    assert block == ["[all]", "dtparam=spi=on", "dtparam=audio=off",
                     "dtoverlay=pwm-2chan,pin=12,func=4,pin2=13,func2=4", "dtoverlay=evse-hat"]
    assert not re.search(r"^dtparam=audio=on", config, re.M)
    assert "camera_auto_detect=1" in config and "[cm4]" in config
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", str(boot / "overlays/evse-hat.dtbo")],
                         capture_output=True, text=True, check=True).stdout
    assert "cs-gpios" in dts and "__fixups__" in dts  # SPI0 with three chip selects, applied by label


def test_settings_files(card: tuple[Path, Path]) -> None:
    root, boot = card
    env = dict(line.split("=", 1) for line in (root / "etc/evse/evse.env").read_text().splitlines()
               if line and not line.startswith("#"))
    assert env["EVSE_SIM"] == "0" and env["EVSE_PWM"] == "auto" and env["EVSE_PORT"] == "8080"
    assert load_pilot_config(root / "etc/evse/pilot.toml").line_limit_a == 32
    example = (boot / "evse.toml.example").read_text()
    assert all(key in example for key in ("hostname", "admin_password", "line_limit_a", "[wifi]", "simulate"))
    assert not (boot / "evse.toml").exists()


def test_no_secret_is_baked_in(card: tuple[Path, Path]) -> None:
    root, boot = card
    written = [p for p in [*root.rglob("*"), *boot.rglob("*")] if p.is_file() and not p.is_symlink()]
    shipped = [p for p in (REPO / "appliance").rglob("*") if p.is_file() and p.suffix in (".py", ".toml", ".json")]
    assert written and shipped
    assert scan(written, (*KEYS_AND_HASHES, *SETTINGS)) == []
    assert scan(shipped) == []
    assert not [p for p in written if p.suffix in (".pem", ".key", ".db", ".sqlite")]
    assert not (root / "etc/shadow").exists()  # the evse account is created locked at boot


def test_the_secret_patterns_catch_real_secrets(tmp_path: Path) -> None:
    from appliance.supervisor.auth.tokens import new_token
    from appliance.system.passwords import hash_password
    from appliance.system.signing import generate_keypair

    generate_keypair(tmp_path / "k.pem")
    samples = [(tmp_path / "k.pem").read_bytes(), hash_password("secret").encode(), new_token().token.encode(),
               b"root:$y$j9T$F5Jx5fExrKuJdcOQOmGMv/$VxNk5kLfsO/ad0NVnRi7BCfvM4yAmmlkCu/VXhxoOO1:19000:0:99999:7:::\n"]
    for sample in samples:
        assert any(p.search(sample) for p in KEYS_AND_HASHES), sample
