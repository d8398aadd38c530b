"""The supervisor's end of the pilot socket: connect, reconnect, heartbeat, request/reply.

The pilot process is the server and outlives us. Commands go out as the protocol's models and
replies and events come back parsed into them; replies are matched by id, pushed events (state,
fault, telemetry) go to a callback. While the link is down, requests fail fast with
PilotUnavailable and the pilot keeps the cars on its failsafe current. A pilot that speaks
another protocol version is not used: the link says why and tries again now and then.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from appliance import protocol as p
from appliance.errors import ApplianceError, Refused

log = logging.getLogger(__name__)


R = TypeVar("R", bound=p.Reply)
VERSION_RETRY_S = 30.0  # a pilot of another version stays so until someone updates it


class PilotUnavailable(ApplianceError, ConnectionError):
    """No connection to the pilot process right now."""


class PilotRefused(Refused):
    """The pilot answered a command with an error reply."""

    def __init__(self, error: p.ErrorInfo) -> None:
        super().__init__(error.message)
        self.code = error.code


class PilotVersionMismatch(PilotUnavailable):
    """The pilot process speaks another protocol version: update the two together."""


class PilotLink:
    def __init__(self, socket_path: Path, on_message: Callable[[p.Event], None],
                 on_connected: Callable[[p.HelloReply], None] | None = None,
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
        self.problem: str | None = None  # why the pilot cannot be used although it is reachable

    async def run(self) -> None:
        """Keep a connection up until `stop()`; back off between attempts."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path), limit=p.MAX_LINE_BYTES)
            except OSError as exc:
                log.debug("pilot socket %s not reachable: %s", self.socket_path, exc)
                await self._sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.2
            self._writer = writer
            self.connected.set()
            tasks = [asyncio.create_task(self._read(reader)), asyncio.create_task(self._heartbeat())]
            retry_after = 0.0
            try:
                hello = await self._hello()
                if self.on_connected is not None:
                    self.on_connected(hello)
                await asyncio.wait(
                    [tasks[0], asyncio.create_task(self._stop.wait())], return_when=asyncio.FIRST_COMPLETED
                )
            except PilotVersionMismatch as exc:
                self.problem = str(exc)
                log.error("pilot link: %s", exc)
                retry_after = VERSION_RETRY_S
            except (TimeoutError, PilotUnavailable) as exc:
                log.warning("pilot link: %s", exc)
            finally:
                self.connected.clear()
                self._writer = None
                for task in tasks:
                    task.cancel()
                writer.close()
                self._fail_pending("pilot connection lost")
                self.reconnects += 1
            await self._sleep(retry_after)

    def stop(self) -> None:
        self._stop.set()

    async def _hello(self) -> p.HelloReply:
        """Negotiate the version: the pilot answers in one we both speak or says it cannot."""
        try:
            hello = await self.request(p.Hello(client="evse-supervisor", versions=list(p.SUPPORTED_VERSIONS)))
        except PilotRefused as exc:
            if exc.code == p.ErrorCode.UNSUPPORTED_VERSION:
                raise PilotVersionMismatch(f"the pilot process refused our protocol: {exc}") from None
            raise PilotUnavailable(f"the pilot process refused hello: {exc}") from None
        self.problem = None
        return hello

    async def request(self, command: p.BaseCommand[R]) -> R:
        """Send one command and wait for its reply, parsed into the command's reply model.

        Raises PilotRefused when the pilot answers with an error, PilotUnavailable when it cannot be
        asked, asyncio.TimeoutError when it does not answer in time.
        """
        writer = self._writer
        if writer is None:
            raise PilotUnavailable("not connected to the pilot process")
        command_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[command_id] = future
        try:
            writer.write(json.dumps(command.model_copy(update={"id": command_id}).wire()).encode() + b"\n")
            await writer.drain()
            async with asyncio.timeout(self.timeout_s):
                raw = await future
        except (ConnectionError, OSError) as exc:
            raise PilotUnavailable(f"pilot connection lost: {exc}") from exc
        finally:
            self._pending.pop(command_id, None)
        return _parse_reply(command, raw)

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
            if not isinstance(message, dict):
                log.warning("pilot sent a line that is not a JSON object")
            elif "ok" in message:
                request_id = message.get("id")
                future = self._pending.get(request_id) if isinstance(request_id, int) else None
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        try:
            event = p.EVENT.validate_python(message)
        except ValidationError as exc:
            log.warning("pilot sent an event this supervisor cannot read (%s): %s", message.get("event"),
                        exc.errors()[0]["msg"])
            return
        try:
            self.on_message(event)
        except Exception:  # one bad message must not drop the link
            log.exception("handling a pilot message failed")

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            with contextlib.suppress(PilotUnavailable, PilotRefused, asyncio.TimeoutError):
                await self.request(p.Heartbeat())

    def _fail_pending(self, why: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(PilotUnavailable(why))
        self._pending.clear()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stop.wait()


def _parse_reply(command: p.BaseCommand[R], raw: dict[str, Any]) -> R:
    """The reply as its model; a pilot of another version is told apart from a plain refusal."""
    if raw.get("v", p.PROTOCOL_VERSION) not in p.SUPPORTED_VERSIONS:
        raise PilotVersionMismatch(
            f"the pilot process speaks protocol version {raw.get('v')}, this supervisor speaks "
            f"{', '.join(str(v) for v in p.SUPPORTED_VERSIONS)}: update the two together")
    try:
        if raw.get("ok") is False:
            raise PilotRefused(p.ErrorReply.model_validate(raw).error)
        return command.reply_type.model_validate(raw)  # type: ignore[return-value]
    except ValidationError as exc:
        raise PilotUnavailable(f"the pilot's reply to {getattr(command, 'cmd', '?')!r} does not match the protocol: "
                               f"{exc.errors()[0]['msg']}") from None
