"""Where the appliance keeps its data and its pilot socket, on the Pi and on a laptop."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

RAM_DIR = Path("/dev/shm")


def data_dir(explicit: str | None = None) -> Path:
    """--data-dir, else EVSE_DATA_DIR, else the per-user data directory."""
    if explicit:
        return Path(explicit)
    if os.environ.get("EVSE_DATA_DIR"):
        return Path(os.environ["EVSE_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "evse"


def pilot_socket(explicit: str | None = None) -> Path:
    """--socket, else EVSE_PILOT_SOCKET, else a per-user runtime path."""
    if explicit:
        return Path(explicit)
    if os.environ.get("EVSE_PILOT_SOCKET"):
        return Path(os.environ["EVSE_PILOT_SOCKET"])
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/evse-{os.getuid()}"
    return Path(runtime) / "evse" / "pilot.sock"


def telemetry_spool(database: Path) -> Path | None:
    """Where telemetry waits for its batch: a file in RAM (EVSE_SPOOL_DIR, else /dev/shm), so a
    crashed supervisor loses none of it and the SD card sees none of it. None without such a
    directory: the batch then waits in the process alone."""
    base = Path(os.environ["EVSE_SPOOL_DIR"]) if os.environ.get("EVSE_SPOOL_DIR") else RAM_DIR
    if not base.is_dir() or not os.access(base, os.W_OK):
        return None
    digest = hashlib.sha256(str(database.resolve()).encode()).hexdigest()[:16]
    return base / f"evse-telemetry-{os.getuid()}-{digest}.jsonl"
