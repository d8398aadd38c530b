"""SPEC §5: sessions, events, faults and audit entries are durable at once; a power cut loses at
most the last 10 s of telemetry, a killed supervisor none of it. A recorder in another process
is SIGKILLed mid-write; the database must open, pass integrity_check and hold everything the
recorder had reported stored.

A power cut also empties RAM, i.e. the telemetry spool: deleting the spool after the kill stands
in for that. (What the disk itself does on a power cut is the QEMU boot test's to show.)"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.supervisor.recorder import FLUSH_EVERY_S
from appliance.supervisor.storage import Storage

ROOT = Path(__file__).resolve().parents[2]


def _kill_mid_write(db: Path, spool: Path, after_lines: int) -> list[str]:
    """Start the recorder, SIGKILL it once it has reported `after_lines` records; its report."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.supervisor.recording_child", str(db), str(spool)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while len(lines) < after_lines:
            line = proc.stdout.readline()
            assert line, f"the recorder exited early ({proc.poll()})"
            assert time.monotonic() < deadline, "the recorder is too slow"
            lines.append(line.split("\n")[0])
        os.kill(proc.pid, signal.SIGKILL)
        lines += [line.rstrip("\n") for line in proc.stdout if line.endswith("\n")]  # written before the kill
    finally:
        proc.kill()
        proc.wait(timeout=10)
    return lines


def _reported(lines: list[str], kind: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in lines if line.startswith(kind + " ")]


def _check(db: Path, lines: list[str], telemetry_loss_s: float) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    messages = {kind: {m for (m,) in conn.execute(sql)} for kind, sql in (
        ("event", "SELECT message FROM events WHERE kind = 'decision'"),
        ("fault", "SELECT message FROM faults"), ("audit", "SELECT action FROM audit_log"))}
    for kind, stored in messages.items():
        missing = [n for n in _reported(lines, kind) if f"{kind} {n}" not in stored]
        assert missing == [], f"{kind}s reported stored but lost: {missing}"
    sessions = dict(conn.execute("SELECT id, end_t FROM sessions"))
    assert {int(i) for i in _reported(lines, "open")} <= set(sessions)
    assert all(sessions[int(i)] is not None for i in _reported(lines, "closed"))
    reported = sorted(float(t) for t in _reported(lines, "tel"))
    stored = {t for (t,) in conn.execute("SELECT t FROM telemetry_raw WHERE station = 1")}
    lost = [t for t in reported if t not in stored]
    assert len(reported) > 3 * FLUSH_EVERY_S
    assert all(t > reported[-1] - telemetry_loss_s for t in lost), (reported[-1], lost)
    conn.close()


@pytest.mark.parametrize("after_lines", [150, 401, 777])
def test_a_power_cut_loses_at_most_the_last_10_s_of_telemetry(tmp_path: Path, after_lines: int) -> None:
    db, spool = tmp_path / "evse.db", tmp_path / "spool.jsonl"
    lines = _kill_mid_write(db, spool, after_lines)
    spool.unlink(missing_ok=True)  # RAM is gone
    _check(db, lines, FLUSH_EVERY_S)
    with Storage(db) as storage:  # and the supervisor starts again on it
        assert storage.telemetry.pending == 0


def test_a_killed_supervisor_loses_no_telemetry(tmp_path: Path) -> None:
    db, spool = tmp_path / "evse.db", tmp_path / "spool.jsonl"
    lines = _kill_mid_write(db, spool, 333)
    with Storage(db, spool=spool):  # the next start writes what the spool kept
        pass
    assert not spool.exists()
    _check(db, lines, 0.0)
