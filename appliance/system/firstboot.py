"""First-boot settings: the `evse.toml` a user drops on the card's boot partition.

    hostname = "evse"               # the UI is then at http://evse.local
    admin_password = "..."          # web UI admin, at least 10 characters
    line_limit_a = 32               # per-phase limit of the supply line (its fuse)
    simulate = false                # demo: run on the simulated HAT
    [wifi]
    ssid = "home"
    password = "..."                # WPA2 passphrase (8-63 characters); leave out for an open network
    country = "DE"                  # required for Wi-Fi: the radio stays off without it

evse-firstboot.service applies it as root before the network and the appliance start. Until an
admin password exists it also writes the one-time setup code (appliance/system/setup_code.py)
into `evse-firstboot.txt` and onto the console. A bad
file is rejected as a whole with the line and key at fault, written to `evse-firstboot.txt`
beside it; a good one is applied and deleted, because it holds secrets on a FAT partition
anyone with the card can read. The admin password reaches the supervisor only as a hash, in
<data>/firstboot.json (0600, owner evse), which the supervisor imports and deletes.
"""

from __future__ import annotations

import json
import pwd
import re
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from appliance.errors import InvalidInput
from appliance.pilot.config import PilotConfig, load_pilot_config
from appliance.system import setup_code, tls
from appliance.system.files import replace_line, set_hostname, write_private
from appliance.system.passwords import hash_password
from appliance.tomlfile import parse_model

REPORT_NAME = "evse-firstboot.txt"
HANDOVER_NAME = "firstboot.json"
DATABASE_NAME = "evse.db"  # the supervisor's; none yet means this charger has never been set up
_HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class FirstBootError(InvalidInput):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _no_control_chars(value: str, what: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError(f"{what} must not contain control characters or line breaks")
    return value


class Wifi(_Strict):
    ssid: str
    password: str | None = None
    country: str

    @field_validator("ssid")
    @classmethod
    def _ssid(cls, v: str) -> str:
        if not 1 <= len(v.encode()) <= 32:
            raise ValueError("the network name must be 1 to 32 bytes long")
        return _no_control_chars(v, "the network name")

    @field_validator("password")
    @classmethod
    def _psk(cls, v: str | None) -> str | None:
        if v is None or _HEX64.match(v):
            return v
        if not 8 <= len(v) <= 63 or not all(0x20 <= ord(c) <= 0x7E for c in v):
            raise ValueError("a WPA2 passphrase is 8 to 63 printable ASCII characters (or 64 hex digits)")
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError('use the two-letter country code, e.g. "DE": the radio stays off without it')
        return v.upper()


class FirstBoot(_Strict):
    hostname: str | None = None
    admin_password: str | None = Field(default=None, min_length=10, max_length=256)
    line_limit_a: float | None = None
    simulate: bool | None = None
    wifi: Wifi | None = None

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.lower()
        if not _HOSTNAME.match(v):
            raise ValueError("a hostname is 1 to 63 letters, digits or '-', not starting or ending with '-'")
        return v

    @field_validator("line_limit_a")
    @classmethod
    def _line_limit(cls, v: float | None) -> float | None:
        if v is not None:
            try:
                PilotConfig(line_limit_a=v)  # the pilot's own bounds, so the two never disagree
            except ValidationError as exc:
                raise ValueError(exc.errors()[0]["msg"]) from None
        return v


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return (
            "unknown setting (allowed: " + ", ".join(FirstBoot.model_fields) + ", and [wifi] ssid, password, country)"
        )
    if err["type"] == "missing":
        return "missing: this setting is required here"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return msg.replace("Input should be", "must be").replace("String should have", "must have")


def parse_firstboot(text: str, name: str = "evse.toml") -> FirstBoot:
    return parse_model(FirstBoot, text, name, FirstBootError, toml_prefix="not valid TOML: ", describe=_message)


# ---------------------------------------------------------------------------------- applying
Run = Callable[[list[str]], object]


def _keyfile_value(value: str) -> str:
    """Escape a value for NetworkManager's GLib key file."""
    escaped = value.replace("\\", "\\\\")
    return "\\s" + escaped[1:] if escaped.startswith(" ") else escaped


def _apply_wifi(wifi: Wifi, root: Path, live: bool, run: Run) -> None:
    if live and shutil.which("raspi-config"):
        run(["raspi-config", "nonint", "do_wifi_country", wifi.country])  # also unblocks the radio
    else:
        (root / "etc/modprobe.d").mkdir(parents=True, exist_ok=True)
        (root / "etc/modprobe.d/evse-wifi-country.conf").write_text(
            f"options cfg80211 ieee80211_regdom={wifi.country}\n", encoding="utf-8")
    lines = ["[connection]", "id=evse-wifi", f"uuid={uuid.uuid4()}", "type=wifi", "autoconnect=true",
             "", "[wifi]", "mode=infrastructure", f"ssid={_keyfile_value(wifi.ssid)}"]
    if wifi.password is not None:
        lines += ["", "[wifi-security]", "key-mgmt=wpa-psk", f"psk={_keyfile_value(wifi.password)}"]
    lines += ["", "[ipv4]", "method=auto", "", "[ipv6]", "method=auto", ""]
    write_private(root / "etc/NetworkManager/system-connections/evse-wifi.nmconnection", "\n".join(lines))


def apply_firstboot(settings: FirstBoot, root: Path, *, data_dir: Path, owner: tuple[int, int] | None,
                    live: bool, run: Run = subprocess.run) -> list[str]:
    """Write the settings into the system under `root`; `live` also changes the running system.
    Returns what was done, without secrets, for the report on the boot partition."""
    done = []
    if settings.hostname is not None:
        set_hostname(root, settings.hostname)
        if live:
            socket.sethostname(settings.hostname)
        done.append(f"hostname: {settings.hostname} (web UI at http://{settings.hostname}.local)")
    if settings.wifi is not None:
        _apply_wifi(settings.wifi, root, live, run)
        done.append(f"Wi-Fi: {settings.wifi.ssid} ({settings.wifi.country})")
    if settings.simulate is not None:
        replace_line(root / "etc/evse/evse.env", r"^EVSE_SIM=", f"EVSE_SIM={int(settings.simulate)}")
        done.append("simulated HAT: " + ("on (demonstration)" if settings.simulate else "off"))
    handover: dict[str, object] = {}
    if settings.line_limit_a is not None:
        pilot_toml = root / "etc/evse/pilot.toml"
        replace_line(pilot_toml, r"^line_limit_a\s*=", f"line_limit_a = {settings.line_limit_a:g}",
                      before=r"^\s*\[")
        load_pilot_config(pilot_toml)  # never leave the pilot a file it would refuse
        handover["line_limit_a"] = settings.line_limit_a
        done.append(f"line limit: {settings.line_limit_a:g} A per phase")
    if settings.admin_password is not None:
        handover["admin_password_hash"] = hash_password(settings.admin_password)
        done.append("admin password: set")
    if handover:
        write_private(data_dir / HANDOVER_NAME, json.dumps(handover, indent=2) + "\n", owner)
    return done


def run_firstboot(path: Path, root: Path = Path("/"), data_dir: Path = Path("/var/lib/evse"),
                  user: str = "evse", live: bool = True) -> int:
    """Apply `path` if it is there (and delete it), then, while the charger has no admin
    password, make the one-time setup code; report both on the boot partition beside it and on
    the console."""
    report = path.with_name(REPORT_NAME)
    owner = _owner(user)
    lines: list[str] = []
    password_given = False
    if path.exists():
        try:
            settings = parse_firstboot(path.read_text(encoding="utf-8"), path.name)
            done = apply_firstboot(settings, root, data_dir=data_dir, owner=owner, live=live)
        except (FirstBootError, OSError, UnicodeDecodeError, ValueError) as exc:
            report.write_text(f"{path.name} was NOT applied; fix it and restart the charger:\n{exc}\n",
                              encoding="utf-8")
            print(f"evse firstboot: {exc}", file=sys.stderr)
            return 1
        path.unlink()
        password_given = settings.admin_password is not None
        lines += [f"{path.name} applied and deleted:", *(f"  {d}" for d in done)]
    if not password_given and (not (data_dir / DATABASE_NAME).exists() or setup_code.read_code(data_dir)):
        code = setup_code.shown(setup_code.ensure_code(data_dir, owner))
        lines += [f"No admin password yet. First-run setup code: {code}",
                  "  Open the charger's web page (http://evse.local or its address) and enter this code with",
                  "  the password you choose. It works once; it is not needed once a password is set."]
        print(f"evse firstboot: first-run setup code {code} (also in {report.name} on the boot partition)",
              flush=True)
    if lines:
        hostname = (root / "etc/hostname").read_text(encoding="utf-8").strip() if (root / "etc/hostname").exists() \
            else socket.gethostname()
        certificate = tls.ensure_certificate(data_dir, hostname or "evse", owner)
        lines += [f"HTTPS (https://{hostname or 'evse'}.local): the charger's own certificate, SHA-256 fingerprint",
                  f"  {certificate.fingerprint}",
                  "  Your browser warns the first time: accept only if it shows this same fingerprint."]
        print(f"evse firstboot: HTTPS certificate SHA-256 {certificate.fingerprint}", flush=True)
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def _owner(user: str) -> tuple[int, int] | None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m appliance.system.firstboot /boot/firmware/evse.toml", file=sys.stderr)
        return 2
    return run_firstboot(Path(args[0]))


if __name__ == "__main__":
    raise SystemExit(main())
