"""Everything the web layer needs from the rest of the supervisor, in one object.

The API is built from this context rather than from globals so tests can build a real
core and real storage on a temporary directory and run the same app, with or without a pilot.
The app's lifespan starts and stops the runtime (it must live in the server's event loop).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.runtime import SupervisorRuntime
from appliance.supervisor.storage import Storage

if TYPE_CHECKING:
    from appliance.system.update import UpdateManager


@dataclass
class AppContext:
    core: SupervisorCore
    storage: Storage
    data_dir: Path
    version: str
    simulated: bool
    runtime: SupervisorRuntime | None = None  # None: no pilot link (tests, or the pilot is elsewhere)
    clock: Callable[[], float] = time.time
    started: float = field(default_factory=time.time)
    updater: UpdateManager | None = None  # None: this build cannot update itself (simulation, development)
    mqtt_url: str | None = None  # --mqtt-url: this broker, whatever the saved setting says
