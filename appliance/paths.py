"""Where the appliance keeps its data and its pilot socket, on the Pi and on a laptop."""

from __future__ import annotations

import os
from pathlib import Path


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
