"""Everything the web layer needs from the rest of the supervisor, in one object.

The API is built from this context rather than from globals so tests can build a real
core and real storage on a temporary directory and run the same app, with or without a pilot.
The objects the requests share (sessions and tokens, the login limits and the one-at-a-time
password hashing, the live feed) are made with the context and live in it. The app's lifespan
restores the saved state and starts and stops the runtime (it must live in the server's event loop).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.supervisor.api.hub import Hub
from appliance.supervisor.api.live_feed import LiveFeed
from appliance.supervisor.auth.backoff import LoginLimits, OneAtATime
from appliance.supervisor.auth.service import AuthService
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
    auth: AuthService = field(init=False)
    login_limits: LoginLimits = field(init=False)
    hashing: OneAtATime = field(init=False)
    hub: Hub = field(init=False)
    live: LiveFeed = field(init=False)

    def __post_init__(self) -> None:
        def now() -> float:
            return self.clock()  # the feed reads whatever clock the context has when asked

        self.auth = AuthService(self.storage.auth, self.clock)
        self.login_limits = LoginLimits(time.monotonic)
        self.hashing = OneAtATime()
        self.hub = Hub()
        self.live = LiveFeed(self.core, now, self.hub)
