"""The supervisor in production: the pilot link, the once-a-second cycle, log fetching.

Runs inside the web server's event loop. Losing the pilot is routine: commands fail fast,
the pilot keeps the cars on its failsafe current, and the link reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from appliance import protocol as p
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.pilot_link import PilotLink, PilotRefused, PilotUnavailable
from appliance.supervisor.tasks import cancel_all

log = logging.getLogger(__name__)
R = TypeVar("R", bound=p.Reply)


class SupervisorRuntime:
    def __init__(self, core: SupervisorCore, socket_path: Path, clock: Callable[[], float] = time.time,
                 on_cycle: Callable[[float], None] | None = None,
                 on_logs: Callable[[list[p.LogEntry], int, str | None], int] | None = None,
                 period_s: float = 1.0, log_period_s: float = 10.0,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.core = core
        self.clock = clock
        self.on_cycle = on_cycle
        self.on_logs = on_logs
        self.on_stop = on_stop  # e.g. write what waits for its batch
        self.period_s = period_s
        self.log_period_s = log_period_s
        self.link = PilotLink(socket_path, self._message, self._connected)
        self.log_seq = 0
        self.pilot_boot: str | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self.link.run()), asyncio.create_task(self._loop()),
                       asyncio.create_task(self._fetch_logs())]

    async def stop(self) -> None:
        self.link.stop()
        await cancel_all(self._tasks)
        if self.on_stop is not None:
            try:
                self.on_stop()
            except Exception:  # shutting down: say so and let the rest of the shutdown run
                log.exception("writing the last batch at shutdown failed")

    async def command(self, command: p.BaseCommand[R]) -> R:
        """One command to the pilot, for the API (clear_fault, self_test...)."""
        return await self.link.request(command)

    def _connected(self, hello: p.HelloReply) -> None:
        if hello.boot_id != self.pilot_boot:
            self.pilot_boot = hello.boot_id
            self.log_seq = 0  # a (re)started pilot numbers its log from 1 again; storage ignores repeats
        self.core.on_connected(hello, self.clock())

    def _message(self, message: p.Event) -> None:
        self.core.on_pilot_message(message, self.clock())

    async def _loop(self) -> None:
        next_at = time.monotonic()
        while True:
            next_at += self.period_s
            now = self.clock()
            if not self.link.connected.is_set():
                self.core.on_disconnected(now)
            commands = self.core.cycle(now)
            if self.link.connected.is_set():
                for command in commands:
                    try:
                        await self.link.request(command)
                    except PilotRefused as exc:
                        log.warning("pilot refused %s: %s", command.wire(), exc)
                    except (TimeoutError, PilotUnavailable) as exc:
                        log.info("pilot command %s not delivered: %s", command.wire().get("cmd"), exc)
                        break
            if self.on_cycle is not None:
                self.on_cycle(now)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def _fetch_logs(self) -> None:
        while True:
            await asyncio.sleep(self.log_period_s)
            if not self.link.connected.is_set() or self.on_logs is None:
                continue
            with contextlib.suppress(PilotUnavailable, PilotRefused, asyncio.TimeoutError):
                reply = await self.link.request(p.FetchLogs(since=self.log_seq, limit=1000))
                self.log_seq = self.on_logs(reply.entries, reply.last_seq, self.pilot_boot)
