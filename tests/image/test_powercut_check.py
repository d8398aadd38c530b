"""The in-guest half of `image/boot-test.sh --powercut`: the script that, on the boot after the
cut, reports whether the database passes `PRAGMA integrity_check` and the last telemetry kept.
Run here on a real database (the QEMU run itself is slow and needs root; README)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from appliance.supervisor.storage import Storage
from tests.supervisor.test_storage import charge

REPO = Path(__file__).resolve().parents[2]
T0 = 1_700_000_040.0


def run_check(tmp_path: Path, marker: str | None) -> str:
    console = tmp_path / "console"
    console.touch()
    if marker is not None:
        (tmp_path / "marker").write_text(marker + "\n")
    env = {**os.environ, "EVSE_POWERCUT_MARKER": str(tmp_path / "marker"),
           "EVSE_POWERCUT_DB": str(tmp_path / "evse.db"),
           "EVSE_POWERCUT_CONSOLE": str(console), "EVSE_POWERCUT_PYTHON": sys.executable}
    done = subprocess.run(["sh", str(REPO / "image/powercut-check.sh")], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return console.read_text()


def test_reports_integrity_and_the_last_telemetry_kept(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as storage:
        charge(storage, T0, 30, flush_every=10)
    report = run_check(tmp_path, "check")
    assert report == (f"EVSE-BOOTTEST POWERCUT-CHECK integrity ok; last telemetry t={T0 + 29}; "
                      "telemetry rows 60; events 0\n")


def test_a_damaged_database_is_reported_not_passed(tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as storage:
        charge(storage, T0, 600, flush_every=60)
    db = tmp_path / "evse.db"
    data = bytearray(db.read_bytes())
    data[len(data) // 2: len(data) // 2 + 2048] = b"\xff" * 2048  # pages torn by the cut
    db.write_bytes(bytes(data))
    report = run_check(tmp_path, "check")
    assert report.startswith("EVSE-BOOTTEST POWERCUT-CHECK ") and "integrity ok;" not in report


def test_silent_unless_the_boot_test_armed_it(tmp_path: Path) -> None:
    assert run_check(tmp_path, None) == ""
    assert run_check(tmp_path, "cut") == ""  # the first boot: nothing has been cut yet
