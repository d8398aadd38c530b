"""Two cars charging through the real core, recorder and SQLite file, on a simulated clock: what
the appliance writes to its storage while it does the job it writes most for."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.protocol import LogEntry
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.recorder import StorageRecorder
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from tests.pilot_messages import event, hello, telemetry

T0 = 1_700_000_040.0  # a minute boundary
DAY_S = 86400
LOG_PERIOD_S = 10  # the runtime fetches the pilot's log this often
WRITEBACK_S = 30  # Linux writes pages back once they have been dirty this long (dirty_expire_centisecs)


def disk_writes() -> int:
    """Bytes this process has sent towards the block layer (Linux /proc/self/io write_bytes)."""
    text = Path("/proc/self/io").read_text()
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith("write_bytes:"))


def snapshot(i: int, station: int) -> dict[str, object]:
    amps = 16.0 if station == 1 else 10.0 + (i // 300) % 3  # station 2's car steps its draw now and then
    volts = [230.0 + (i % 7) * 0.1, 229.5, 231.2]
    return {"state": "C", "pilot": "X2", "offered_a": 16.0, "contactor": True, "allowed": True,
            "current_a": [amps, amps, amps], "voltage_v": volts, "power_w": [amps * v for v in volts],
            "energy_wh": i * amps * 690 / 3600}


def _write_back(path: Path) -> None:
    """What the kernel does to the database's files in real time, in a run that takes a moment:
    write back what is dirty (the memory-mapped WAL index above all), so that dirtying it again
    counts again."""
    for file in path.parent.glob(path.name + "*"):
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def charge_two_cars(path: Path, seconds: int, flush_every_s: float | None = None, exclusive: bool = True) -> int:
    """Run `seconds` of two cars charging at 1 Hz into the database at `path`; returns the bytes
    written (the database is closed, i.e. everything flushed, before the count is taken).
    `exclusive` as the supervisor opens it (see `storage.database.connect`)."""
    before = disk_writes()
    storage = Storage(path, exclusive=exclusive)
    recorder = StorageRecorder(storage) if flush_every_s is None else StorageRecorder(storage, flush_every_s)
    core = SupervisorCore(SiteSettings(), recorder)
    try:
        core.on_connected(hello(32.0), T0)
        for station in (1, 2):
            core.on_pilot_message(event("state", T0, station=station, state="B", cause={"from": "A", "to": "B"}), T0)
        seq = 0
        for i in range(seconds):
            now = T0 + 1.137 + i  # the runtime's clock is not on whole seconds
            core.on_pilot_message(telemetry(32.0, now, **{f"s{s}": snapshot(i, s) for s in (1, 2)}), now)
            core.cycle(now)
            recorder.tick(now)
            if i % LOG_PERIOD_S == LOG_PERIOD_S - 1:
                entries = [LogEntry(seq=seq + 1, t=float(i), level="info", station=2,
                                    message="station 2: car changed its draw")] if i % 300 == 299 else []
                seq += len(entries)
                recorder.pilot_logs(entries, seq, "boot-1")
            if i % WRITEBACK_S == WRITEBACK_S - 1:
                _write_back(path)
    finally:
        storage.close()
    return disk_writes() - before
