"""The pilot process: a real-time control thread and the supervisor socket.

The control thread ticks at the loop period on a fixed schedule and never waits for the
socket. The socket side (asyncio) answers commands, pushes state and fault events at once
and telemetry at 2 Hz. Supervisors come and go; the pilot keeps the cars safe meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.clock import Clock
from appliance.pilot.controller import PilotController
from appliance.pilot.service import PilotService
from appliance.pilot.systemd import SystemdNotifier
from appliance.protocol import MAX_LINE_BYTES, ErrorCode
from appliance.protocol import error as error_reply


class PilotProcess:
    """Runs the control loop on its own thread beside the supervisor socket, so that a slow or absent
    supervisor never delays a tick."""

    def __init__(self, controller: PilotController, service: PilotService, clock: Clock, socket_path: Path,
                 before_tick: Callable[[float], None] | None = None, telemetry_hz: float = 2.0) -> None:
        self.controller = controller
        self.service = service
        self.engine = controller.engine
        self.clock = clock
        self.socket_path = Path(socket_path)
        self.before_tick = before_tick
        self.telemetry_period = 1.0 / telemetry_hz
        self.notifier = SystemdNotifier()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self.tick_overruns = 0
        self._last_failure: tuple[str, int] | None = None

    # ------------------------------------------------------------------ control thread
    def control_loop(self) -> None:
        period = self.engine.timing.loop_period_s
        with self.service.lock:
            self.controller.start()
        next_deadline = time.monotonic()
        last_notify = 0.0
        while not self._stop.is_set():
            next_deadline += period
            outputs = None
            with self.service.lock:
                try:
                    now = self.clock.now()
                    if self.before_tick is not None:
                        self.before_tick(now)
                    outputs = self.engine.step(now, self.controller.read(now))
                except Exception as exc:  # noqa: BLE001 - any failure: outputs safe, say so, go on
                    self._fail_safe(exc)
                events = self.engine.drain_events()
            if outputs is not None:
                try:
                    self.controller.apply(outputs)  # pigpio and GPIO writes, outside the lock
                except Exception as exc:  # noqa: BLE001
                    with self.service.lock:
                        self._fail_safe(exc)
            if events and self._loop is not None:
                messages = self.service.event_messages(events)
                self._loop.call_soon_threadsafe(self._broadcast, messages)
            wall = time.monotonic()
            if wall - last_notify >= 1.0:
                self.notifier.notify("WATCHDOG=1")
                last_notify = wall
            delay = next_deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                self.tick_overruns += 1
                if delay < -period:
                    next_deadline = time.monotonic()  # far behind: resynchronise instead of bursting
        with self.service.lock:
            self.controller.close()

    def _fail_safe(self, exc: Exception) -> None:
        """Outputs safe; the log says so once a second, not a hundred times, while a fault persists."""
        why = f"control tick failed: {exc!r}"
        self.controller.safe_state(why=why)
        now = self.clock.now()
        if (why, int(now)) != self._last_failure:
            self._last_failure = (why, int(now))
            self.engine.log.log(now, "error", why)

    # ------------------------------------------------------------------ socket
    async def serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        server = await asyncio.start_unix_server(self._client, path=str(self.socket_path), limit=MAX_LINE_BYTES)
        os.chmod(self.socket_path, 0o660)
        thread = threading.Thread(target=self.control_loop, name="pilot-control", daemon=True)
        thread.start()
        self.notifier.notify("READY=1")
        try:
            async with server:
                while not self._stop.is_set():
                    await asyncio.sleep(self.telemetry_period)
                    with self.service.lock:
                        telemetry = self.service.telemetry()
                    self._broadcast([telemetry])
        finally:
            self._stop.set()
            thread.join(timeout=2)
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()

    def stop(self) -> None:
        self._stop.set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            while not self._stop.is_set():
                try:
                    line = await reader.readline()
                except ValueError:  # longer than the limit: drop the rest of that line
                    await self._send(
                        writer, error_reply(None, ErrorCode.BAD_REQUEST, f"line longer than {MAX_LINE_BYTES} bytes")
                    )
                    continue
                if not line:
                    break
                if not line.strip():
                    continue
                answer = self.service.handle_line(line)
                await self._send(writer, answer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    async def _send(self, writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
        writer.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        await writer.drain()

    def _broadcast(self, messages: list[dict[str, Any]]) -> None:
        data = b"".join(json.dumps(m, separators=(",", ":")).encode() + b"\n" for m in messages)
        for writer in list(self._clients):
            transport = writer.transport
            if transport.is_closing():
                self._clients.discard(writer)
            elif transport.get_write_buffer_size() > 1 << 20:
                writer.close()  # a supervisor that stopped reading: drop it rather than buffer forever
                self._clients.discard(writer)
            else:
                writer.write(data)

