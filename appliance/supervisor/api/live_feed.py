"""Connects the core to the WebSocket hub: pilot state and fault events at once, a full
snapshot every second (and right after a control action), so a UI never waits long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from appliance.protocol import Event, TelemetryEvent
from appliance.supervisor.api.hub import Hub
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.tasks import cancel

log = logging.getLogger(__name__)


class LiveFeed:
    """Publishes the core's state to the WebSocket hub: what changed at once, everything every second."""

    def __init__(self, core: SupervisorCore, clock: Callable[[], float], hub: Hub, period_s: float = 1.0) -> None:
        self.core = core
        self.clock = clock
        self.hub = hub
        self.period_s = period_s
        self._task: asyncio.Task[None] | None = None

    def snapshot(self) -> dict[str, Any]:
        return {"type": "snapshot", "t": self.clock(), "data": self.core.snapshot()}

    def push_snapshot(self) -> None:
        if self.hub.clients:
            self.hub.publish(self.snapshot())

    def on_pilot_message(self, message: Event) -> None:
        """Core listener: runs for every pilot message, so it only looks at the kind."""
        if isinstance(message, TelemetryEvent) or not self.hub.clients:
            return
        sid = message.station
        view = self.core.station_view(sid) if sid in self.core.live else None
        self.hub.publish({"type": message.event, "t": self.clock(), "event": message.wire(), "station": view})

    def start(self) -> None:
        self.hub.bind(asyncio.get_running_loop())
        self.core.listeners.append(self.on_pilot_message)
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.core.listeners.remove(self.on_pilot_message)
        self.hub.bind(None)
        await cancel(self._task)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            try:
                self.push_snapshot()
            except Exception:  # a bad snapshot must not stop the feed for good
                log.exception("live snapshot failed")
