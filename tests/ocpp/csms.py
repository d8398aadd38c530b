"""A central system for the tests, written with the same `ocpp` library (every message
schema-checked both ways), on a loopback port, in a thread of its own so that tests stay
plain synchronous code."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.server import Server, ServerConnection, serve

TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Received:
    t: float
    cp: str
    action: str
    payload: dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Handler(ChargePoint):
    """The central system's side of one charge point's connection."""

    def __init__(self, cp_id: str, connection: Any, central: CentralSystem) -> None:
        super().__init__(cp_id, connection, response_timeout=TIMEOUT_S)
        self.central = central

    def _got(self, action: str, payload: dict[str, Any]) -> None:
        self.central.record(Received(time.time(), self.id, action, payload))

    async def _took(self, action: str, payload: dict[str, Any]) -> None:
        """Recorded; then, if the test asked for it, the connection closed in order (1001) before
        the answer, as a central system going down just then does."""
        self._got(action, payload)
        if action in self.central.close_after:
            self.central.close_after.discard(action)
            await self._connection.close(1001)

    @on(Action.boot_notification)
    def boot(self, **payload: Any) -> call_result.BootNotification:
        self._got("BootNotification", payload)
        return call_result.BootNotification(current_time=now_iso(), interval=self.central.boot_interval,
                                            status=self.central.boot_status)

    @on(Action.heartbeat)
    def heartbeat(self, **payload: Any) -> call_result.Heartbeat:
        self._got("Heartbeat", payload)
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def status(self, **payload: Any) -> call_result.StatusNotification:
        self._got("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def authorize(self, **payload: Any) -> call_result.Authorize:
        self._got("Authorize", payload)
        if self.central.authorize_status is None:
            raise NotImplementedError("this central system does not authorize")  # answered InternalError
        return call_result.Authorize(id_tag_info={"status": self.central.authorize_status})

    @on(Action.start_transaction)
    async def start_transaction(self, **payload: Any) -> call_result.StartTransaction:
        await self._took("StartTransaction", payload)
        return call_result.StartTransaction(transaction_id=next(self.central.ids),
                                            id_tag_info={"status": self.central.id_tag_status})

    @on(Action.stop_transaction)
    async def stop_transaction(self, **payload: Any) -> call_result.StopTransaction:
        await self._took("StopTransaction", payload)
        return call_result.StopTransaction()

    @on(Action.meter_values)
    async def meter_values(self, **payload: Any) -> call_result.MeterValues:
        await self._took("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    def firmware_status(self, **payload: Any) -> call_result.FirmwareStatusNotification:
        self._got("FirmwareStatusNotification", payload)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def diagnostics_status(self, **payload: Any) -> call_result.DiagnosticsStatusNotification:
        self._got("DiagnosticsStatusNotification", payload)
        return call_result.DiagnosticsStatusNotification()


class CentralSystem:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.received: list[Received] = []
        self.handlers: dict[str, _Handler] = {}
        self.authorization: dict[str, str | None] = {}  # the Authorization header each charge point sent
        self.ids = itertools.count(1001)
        self.boot_status = "Accepted"
        self.boot_interval = 300
        self.id_tag_status = "Accepted"  # what StartTransaction's idTagInfo says
        self.authorize_status: str | None = "Accepted"  # what Authorize's idTagInfo says; None: a CallError
        self.close_after: set[str] = set()  # actions taken and then answered by closing the connection, once
        self.port = 0
        self._server: Server | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.thread.start()
        self._run(self._serve())

    async def _serve(self) -> None:
        self._server = await serve(self._connection, "127.0.0.1", self.port, subprotocols=["ocpp1.6"])
        self.port = self._server.sockets[0].getsockname()[1]

    async def _connection(self, ws: ServerConnection) -> None:
        cp_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        handler = _Handler(cp_id, ws, self)
        self.authorization[cp_id] = ws.request.headers.get("Authorization")
        self.handlers[cp_id] = handler
        with contextlib.suppress(Exception):  # the charge point went: the test looks at what arrived
            await handler.start()

    def drop(self) -> None:
        """Gone: the server and every connection close."""
        async def down() -> None:
            assert self._server is not None
            self._server.close()
            await self._server.wait_closed()
            self.handlers.clear()
        self._run(down())

    def restart(self) -> None:
        self._run(self._serve())

    def stop(self) -> None:
        if self._server is not None:
            self.drop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def url(self, cp_id: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp/{cp_id}"

    # ------------------------------------------------------------------ talking and looking
    def _run(self, coro: Any, timeout: float = TIMEOUT_S) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def record(self, message: Received) -> None:
        with self._lock:
            self.received.append(message)

    def call(self, cp_id: str, request: Any) -> Any:
        """One call to the charge point; the library checks both ways and raises on a CallError."""
        return self._run(self.handlers[cp_id].call(request, suppress=False))

    def raw(self, cp_id: str, frame: str, unique_id: str) -> list[Any]:
        """Send a frame as it is; the charge point's answer to `unique_id` as [type, id, ...]."""
        handler = self.handlers[cp_id]

        async def exchange() -> list[Any]:
            await handler._send(frame)
            answer = await handler._get_specific_response(unique_id, TIMEOUT_S)
            if answer.message_type_id == 4:
                return [4, answer.unique_id, answer.error_code, answer.error_description]
            return [3, answer.unique_id, answer.payload]
        return self._run(exchange())

    def messages(self, action: str | None = None, cp: str | None = None) -> list[Received]:
        with self._lock:
            return [m for m in self.received if (action is None or m.action == action) and (cp is None or m.cp == cp)]

    def wait_for(self, action: str, cp: str | None = None, where: Callable[[Received], bool] = lambda m: True,
                 after: float = 0.0, timeout: float = 30.0) -> Received:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages(action, cp) if m.t > after and where(m)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no {action} within {timeout} s; got {[m.action for m in self.messages(cp=cp)][-20:]}")

    def connected(self, cp_id: str) -> bool:
        return cp_id in self.handlers


def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Polls `check`; the seconds it took (AssertionError naming `what` after `timeout`)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start
