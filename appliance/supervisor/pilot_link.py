"""The supervisor's end of the pilot socket: connect, reconnect, heartbeat, request/reply.

The pilot process is the server and outlives us. Replies are matched by id; pushed events
(state, fault, telemetry) go to a callback. While the link is down, requests fail fast
with PilotUnavailable and the pilot keeps the cars on its failsafe current.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from pathlib import Path
from typing import Any, Callable

from appliance.pilot.protocol import MAX_LINE_BYTES

log = logging.getLogger(__name__)


class PilotUnavailable(ConnectionError):
    """No connection to the pilot process right now."""


class PilotLink:
    def __init__(self, socket_path: Path, on_message: Callable[[dict[str, Any]], None],
                 on_connected: Callable[[dict[str, Any]], None] | None = None,
                 heartbeat_s: float = 1.0, timeout_s: float = 2.0) -> None:
        self.socket_path = Path(socket_path)
        self.on_message = on_message
        self.on_connected = on_connected
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._stop = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def run(self) -> None:
        """Keep a connection up until `stop()`; back off between attempts."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path), limit=MAX_LINE_BYTES)
            except OSError as exc:
                log.debug("pilot socket %s not reachable: %s", self.socket_path, exc)
                await self._sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.2
            self._writer = writer
            self.connected.set()
            tasks = [asyncio.create_task(self._read(reader)), asyncio.create_task(self._heartbeat())]
            try:
                hello = await self.request({"cmd": "hello", "client": "evse-supervisor"})
                if self.on_connected is not None:
                    self.on_connected(hello)
                await asyncio.wait([tasks[0], asyncio.create_task(self._stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            except (PilotUnavailable, asyncio.TimeoutError) as exc:
                log.warning("pilot link: %s", exc)
            finally:
                self.connected.clear()
                self._writer = None
                for task in tasks:
                    task.cancel()
                writer.close()
                self._fail_pending("pilot connection lost")
                self.reconnects += 1

    def stop(self) -> None:
        self._stop.set()

    async def request(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send one command and wait for its reply (which may be ok: false)."""
        writer = self._writer
        if writer is None:
            raise PilotUnavailable("not connected to the pilot process")
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            writer.write(json.dumps({**command, "id": command_id}).encode() + b"\n")
            await writer.drain()
            return await asyncio.wait_for(future, self.timeout_s)
        except (ConnectionError, OSError) as exc:
            raise PilotUnavailable(f"pilot connection lost: {exc}") from exc
        finally:
            self._pending.pop(command_id, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                line = await reader.readline()
            except (ValueError, ConnectionError):
                return
            if not line:
                return
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                log.warning("pilot sent a line that is not JSON")
                continue
            if "ok" in message:
                future = self._pending.get(message.get("id"))
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                try:
                    self.on_message(message)
                except Exception:  # noqa: BLE001 - one bad message must not drop the link
                    log.exception("handling a pilot message failed")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            with contextlib.suppress(PilotUnavailable, asyncio.TimeoutError):
                await self.request({"cmd": "heartbeat"})

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PilotUnavailable(why))
        self._pending.clear()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
