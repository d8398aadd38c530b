"""The WebSocket to the central system: connect with subprotocol ocpp1.6 (and Basic auth for
security profiles 1 and 2), keep it alive with pings, reconnect with exponential backoff, and
count what went through for the API and the UI."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.typing import Subprotocol

from appliance.supervisor.ocpp.settings import OcppSettings
from appliance.supervisor.tasks import Backoff, stop_if_cancelled

log = logging.getLogger(__name__)
SUBPROTOCOL = Subprotocol("ocpp1.6")
STABLE_S = 30.0  # a connection that lasted this long resets the backoff


@dataclass
class LinkState:
    state: str = "disabled"  # disabled | connecting | connected | waiting
    last_error: str | None = None
    connected_since: float | None = None
    messages_sent: int = 0
    messages_received: int = 0
    reconnects: int = 0

    def view(self) -> dict[str, Any]:
        return asdict(self)


class CountingConnection:
    """The socket as the `ocpp` library uses it (recv/send), counting each message."""

    def __init__(self, ws: ClientConnection, state: LinkState) -> None:
        self._ws = ws
        self._state = state

    async def recv(self) -> str | bytes:
        message = await self._ws.recv()
        self._state.messages_received += 1
        return message

    async def send(self, message: str) -> None:
        await self._ws.send(message)
        self._state.messages_sent += 1

    @property
    def messages_sent(self) -> int:
        """The link's count of messages whose send completed: a message went when it grows."""
        return self._state.messages_sent

    def closed_by_peer(self) -> bool:
        """The central system started an orderly close. A peer that sends a Close frame still
        reads the frames sent before it saw ours (RFC 6455 §5.5.1), so it got all we sent."""
        protocol = self._ws.protocol
        return protocol.close_rcvd is not None and bool(protocol.close_rcvd_then_sent)

    async def close(self) -> None:
        await self._ws.close()


def auth_header(settings: OcppSettings) -> dict[str, str]:
    """Security profile 1/2: HTTP Basic with the charge point id as the user."""
    if settings.password is None:
        return {}
    token = base64.b64encode(f"{settings.charge_point_id}:{settings.password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class OcppLink:
    def __init__(self, settings: OcppSettings, session: Callable[[CountingConnection], Awaitable[None]],
                 ping_interval_s: float = 30.0, min_backoff_s: float = 1.0, max_backoff_s: float = 60.0) -> None:
        self.settings = settings
        self.session = session
        self.ping_interval_s = ping_interval_s
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.state = LinkState(state="connecting")

    async def run(self) -> None:
        """Until cancelled: one session per connection, a growing pause between attempts."""
        assert self.settings.url is not None
        backoff = Backoff(self.min_backoff_s, self.max_backoff_s)
        first = True
        while True:
            if not first:
                self.state.reconnects += 1
            first = False
            self.state.state = "connecting"
            started = time.monotonic()
            try:
                async with connect(self.settings.url, subprotocols=[SUBPROTOCOL], additional_headers=auth_header(
                        self.settings), ping_interval=self.ping_interval_s or None, open_timeout=10,
                                   proxy=None, user_agent_header="evse-appliance") as ws:
                    if ws.subprotocol != SUBPROTOCOL:
                        raise InvalidHandshake("the central system did not accept subprotocol ocpp1.6")
                    self.state.state, self.state.connected_since = "connected", time.time()
                    await self.session(CountingConnection(ws, self.state))
                    self.state.last_error = "the central system closed the connection"
            except ConnectionClosed as exc:
                self.state.last_error = f"connection closed: {exc}"
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                self.state.last_error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a fault in one session must not end the link for good
                log.exception("OCPP session failed")
                self.state.last_error = f"{type(exc).__name__}: {exc}"
            stop_if_cancelled()  # an error from a clean-up while stopping takes the CancelledError's place
            self.state.state, self.state.connected_since = "waiting", None
            if time.monotonic() - started > STABLE_S:
                backoff.reset()
            delay = backoff.next()
            log.info("OCPP link down (%s); next attempt in %.0f s", self.state.last_error, delay)
            await asyncio.sleep(delay)
