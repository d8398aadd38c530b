"""The first-boot file: good settings land in the system, bad ones are refused with the line and
key at fault, and no secret stays on the card or in clear text."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from appliance.system import setup_code, tls
from appliance.system.firstboot import FirstBootError, apply_firstboot, parse_firstboot, run_firstboot
from appliance.system.passwords import verify_password

GOOD = """\
hostname = "Garage-EVSE"
admin_password = "correct horse battery"
line_limit_a = 25
simulate = true

[wifi]
ssid = "home net"
password = "wifi pass\\\\word"
country = "de"
"""


@pytest.fixture
def system(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc/evse").mkdir(parents=True)
    (root / "etc/hostname").write_text("evse\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tevse\n")
    (root / "etc/evse/evse.env").write_text("EVSE_SIM=0\nEVSE_PWM=auto\n")
    (root / "etc/evse/pilot.toml").write_text("line_limit_a = 32\n\n[[stations]]\nid = 1\nmax_current_a = 32\n")
    (root / "var/lib/evse").mkdir(parents=True)
    return root


def test_good_settings_are_parsed_and_normalised() -> None:
    s = parse_firstboot(GOOD)
    assert (s.hostname, s.line_limit_a, s.simulate) == ("garage-evse", 25, True)
    assert s.wifi is not None and (s.wifi.ssid, s.wifi.country) == ("home net", "DE")


def test_an_empty_file_changes_nothing() -> None:
    assert parse_firstboot("").model_dump(exclude_none=True) == {}


@pytest.mark.parametrize(("text", "expected"), [
    ('hostname = "evse_1"', "line 1, hostname: a hostname is 1 to 63 letters"),
    ('hostname = "-evse"', "hostname: a hostname"),
    ('admin_password = "short"', "admin_password: must have at least 10 characters"),
    ("line_limit_a = 100", "line 1, line_limit_a: must be less than or equal to 80"),
    ("line_limit_a = 4", "line_limit_a: must be greater than or equal to 6"),
    ('line_limit_a = "32"', "line_limit_a: must be a valid number"),
    ("simulate = 3", "simulate: must be a valid boolean"),
    ('color = "red"', "line 1, color: unknown setting"),
    ('\n[wifi]\nssid = "home"\npassword = "short"\ncountry = "DE"', "line 4, wifi.password: a WPA2 passphrase"),
    ('[wifi]\nssid = "home"\npassword = "long enough"', "wifi.country: missing"),
    ('[wifi]\nssid = "home"\ncountry = "Germany"', "line 3, wifi.country: use the two-letter country code"),
    ('[wifi]\nssid = "a network name far longer than 32 bytes"\ncountry = "DE"', "wifi.ssid: the network name"),
    ('[wifi]\nssid = "tab\\there"\ncountry = "DE"', "wifi.ssid: the network name must not contain control"),
    ('hostname = "evse', "not valid TOML"),
])
def test_bad_input_is_rejected_with_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(FirstBootError) as err:
        parse_firstboot(text)
    assert expected in str(err.value)
    assert str(err.value).startswith("evse.toml: ")


def test_settings_are_applied_to_the_root(system: Path) -> None:
    done = apply_firstboot(parse_firstboot(GOOD), system, data_dir=system / "var/lib/evse", owner=None, live=False)

    assert (system / "etc/hostname").read_text() == "garage-evse\n"
    assert "127.0.1.1\tgarage-evse" in (system / "etc/hosts").read_text()
    assert "EVSE_SIM=1" in (system / "etc/evse/evse.env").read_text()
    pilot = (system / "etc/evse/pilot.toml").read_text()
    assert pilot.startswith("line_limit_a = 25\n") and "[[stations]]" in pilot
    conn = system / "etc/NetworkManager/system-connections/evse-wifi.nmconnection"
    assert conn.stat().st_mode & 0o777 == 0o600
    text = conn.read_text()
    assert "ssid=home net\n" in text and "psk=wifi pass\\\\word\n" in text  # key-file escaping
    assert (system / "etc/modprobe.d/evse-wifi-country.conf").read_text().strip().endswith("=DE")
    handover = system / "var/lib/evse/firstboot.json"
    assert handover.stat().st_mode & 0o777 == 0o600
    data = json.loads(handover.read_text())
    assert data["line_limit_a"] == 25
    assert verify_password(data["admin_password_hash"], "correct horse battery")
    assert "correct horse battery" not in handover.read_text()
    assert any("garage-evse.local" in line for line in done)
    assert not any("correct horse" in line or "wifi pass" in line for line in done)


def test_run_applies_reports_and_deletes_the_file(system: Path, tmp_path: Path) -> None:
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "evse.toml").write_text(GOOD)

    assert run_firstboot(boot / "evse.toml", system, system / "var/lib/evse", user="no-such-user", live=False) == 0

    assert not (boot / "evse.toml").exists()  # secrets gone from the FAT partition
    report = (boot / "evse-firstboot.txt").read_text()
    assert "applied" in report and "garage-evse" in report and "battery" not in report


def test_run_refuses_a_bad_file_and_changes_nothing(system: Path, tmp_path: Path) -> None:
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "evse.toml").write_text('hostname = "ok-name"\nline_limit_a = 500\n')

    assert run_firstboot(boot / "evse.toml", system, system / "var/lib/evse", live=False) == 1

    assert (boot / "evse.toml").exists()
    assert "NOT applied" in (boot / "evse-firstboot.txt").read_text()
    assert "line 2, line_limit_a" in (boot / "evse-firstboot.txt").read_text()
    assert (system / "etc/hostname").read_text() == "evse\n"
    assert not (system / "var/lib/evse/firstboot.json").exists()


@pytest.mark.parametrize("plant", ["symlink", "fifo"])
def test_the_handover_file_is_never_written_through_what_evse_planted(system: Path, tmp_path: Path,
                                                                     plant: str) -> None:
    """The data directory is evse's: a symbolic link (or a FIFO that would block root) planted
    at firstboot.json must not make root write, chmod or chown anything else."""
    victim = tmp_path / "shadow"
    victim.write_text("root:secret\n")
    victim.chmod(0o640)
    handover = system / "var/lib/evse/firstboot.json"
    handover.parent.mkdir(parents=True, exist_ok=True)
    if plant == "symlink":
        handover.symlink_to(victim)
    else:
        os.mkfifo(handover)

    apply_firstboot(parse_firstboot(GOOD), system, data_dir=system / "var/lib/evse", owner=None, live=False)

    assert victim.read_text() == "root:secret\n" and victim.stat().st_mode & 0o777 == 0o640
    assert not handover.is_symlink() and handover.is_file()
    assert handover.stat().st_mode & 0o777 == 0o600
    assert json.loads(handover.read_text())["line_limit_a"] == 25


def test_a_fresh_charger_gets_a_setup_code_on_the_card_and_in_its_data(system: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    boot = tmp_path / "boot"
    boot.mkdir()
    data = system / "var/lib/evse"
    assert run_firstboot(boot / "evse.toml", system, data, user="no-such-user", live=False) == 0  # no evse.toml

    code = setup_code.read_code(data)
    assert code is not None and (data / setup_code.FILE_NAME).stat().st_mode & 0o777 == 0o600
    assert setup_code.shown(code) in (boot / "evse-firstboot.txt").read_text()
    assert setup_code.shown(code) in capsys.readouterr().out  # the console
    fingerprint = tls.ensure_certificate(data, "evse").fingerprint  # made by the first boot, kept
    assert fingerprint in (boot / "evse-firstboot.txt").read_text()
    assert (data / tls.KEY_NAME).stat().st_mode & 0o777 == 0o600
    assert run_firstboot(boot / "evse.toml", system, data, user="no-such-user", live=False) == 0
    assert setup_code.read_code(data) == code  # the next boot shows the same code


def test_no_setup_code_when_the_file_sets_the_password_or_one_exists(system: Path, tmp_path: Path) -> None:
    boot = tmp_path / "boot"
    boot.mkdir()
    data = system / "var/lib/evse"
    (boot / "evse.toml").write_text(GOOD)
    assert run_firstboot(boot / "evse.toml", system, data, user="no-such-user", live=False) == 0
    assert setup_code.read_code(data) is None and "setup code" not in (boot / "evse-firstboot.txt").read_text()
    (boot / "evse-firstboot.txt").unlink()
    (data / "evse.db").write_bytes(b"")  # a charger in use, its password set long ago
    assert run_firstboot(boot / "evse.toml", system, data, user="no-such-user", live=False) == 0
    assert setup_code.read_code(data) is None and not (boot / "evse-firstboot.txt").exists()
