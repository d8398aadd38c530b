"""Resident memory of the pilot process and the supervisor, running together on the simulated HAT."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_rss_of_pilot_and_supervisor(emit, tmp_path: Path) -> None:
    sock = tmp_path / "pilot.sock"
    baseline = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    pilot = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(sock)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    supervisor = subprocess.Popen([sys.executable, "-m", "appliance", "supervisor", "--socket", str(sock),
                                   "--data-dir", str(tmp_path / "data"), "--port", str(_free_port())],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(12)  # both up, linked, a few telemetry cycles stored
        assert pilot.poll() is None and supervisor.poll() is None
        base, p, s = _rss_kib(baseline.pid), _rss_kib(pilot.pid), _rss_kib(supervisor.pid)
    finally:
        for proc in (supervisor, pilot, baseline):
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    emit("rss", unit="MiB", pilot=round(p / 1024, 1), supervisor=round(s / 1024, 1), total=round((p + s) / 1024, 1),
         baseline_bare_python=round(base / 1024, 1), ratio_total_to_baseline=round((p + s) / base, 2),
         note="pilot includes the simulated HAT; on the Pi it runs the real drivers")
