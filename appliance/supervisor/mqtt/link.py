"""The connection to the broker: an asyncio task that connects, announces availability,
subscribes, and reconnects with exponential backoff.

Publishing only enqueues (a bounded queue, oldest dropped when full), so the supervisor's loop
never waits for a slow or absent broker. The broker sends `offline` (the last will) for a
process that dies; a clean stop publishes `offline` itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import aiomqtt
from pydantic import BaseModel

from appliance.supervisor.mqtt.settings import Broker
from appliance.supervisor.tasks import Backoff, cancel, stop_if_cancelled

log = logging.getLogger(__name__)
QUEUE_SIZE = 2000
BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 60.0
CONNECT_TIMEOUT_S = 10.0
OFFLINE_TIMEOUT_S = 2.0
ONLINE, OFFLINE = "online", "offline"

State = Literal["connecting", "connected", "waiting", "stopped"]


class LinkStatus(BaseModel):
    """What the System page shows."""

    state: State = "stopped"
    last_error: str | None = None
    connected_since: float | None = None
    connects: int = 0
    published: int = 0
    received: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class LinkConfig:
    broker: Broker
    availability_topic: str
    subscriptions: tuple[str, ...]
    client_id: str


class MqttLink:
    def __init__(self, config: LinkConfig, on_connected: Callable[[], None],
                 on_message: Callable[[str, bytes], Awaitable[None]]) -> None:
        self.config = config
        self.on_connected = on_connected  # e.g. publish discovery and every state topic
        self.on_message = on_message
        self.status = LinkStatus()
        self._queue: asyncio.Queue[tuple[str, str, bool]] = asyncio.Queue(QUEUE_SIZE)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Publish `offline` if connected, then disconnect."""
        await cancel(self._task)
        self.status.state = "stopped"
        self.status.connected_since = None

    def publish(self, topic: str, payload: str, retain: bool = True) -> None:
        """Queued for the broker; while away, the oldest message is dropped for the newest."""
        if self._queue.full():
            self._queue.get_nowait()
            self.status.dropped += 1
        self._queue.put_nowait((topic, payload, retain))

    async def _run(self) -> None:
        backoff = Backoff(BACKOFF_MIN_S, BACKOFF_MAX_S)
        while True:
            self.status.state = "connecting"
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                self.status.last_error = str(exc) or type(exc).__name__
            except Exception as exc:
                self.status.last_error = f"internal error: {exc}"
                log.exception("MQTT link failed")
            stop_if_cancelled()  # an error from a clean-up while stopping takes the CancelledError's place
            if self.status.connected_since is not None:
                backoff.reset()  # it had worked: start the backoff over
            delay = backoff.next()
            log.warning("MQTT broker %s: %s; retrying in %g s", self.config.broker.url(), self.status.last_error, delay)
            self.status.state, self.status.connected_since = "waiting", None
            await asyncio.sleep(delay)

    async def _session(self) -> None:
        cfg, broker = self.config, self.config.broker
        will = aiomqtt.Will(cfg.availability_topic, OFFLINE, qos=1, retain=True)
        async with aiomqtt.Client(broker.host, broker.port, username=broker.username, password=broker.password,
                                  identifier=cfg.client_id, will=will, timeout=CONNECT_TIMEOUT_S,
                                  tls_context=ssl.create_default_context() if broker.tls else None) as client:
            try:
                while not self._queue.empty():  # what waited is stale: on_connected publishes it all anew
                    self._queue.get_nowait()
                await client.publish(cfg.availability_topic, ONLINE, qos=1, retain=True)
                for topic in cfg.subscriptions:
                    await client.subscribe(topic, qos=1)
                self.status.state, self.status.connected_since = "connected", time.time()
                self.status.connects += 1
                self.status.last_error = None
                log.info("MQTT connected to %s", broker.url())
                self.on_connected()
                await self._pump(client)
            except asyncio.CancelledError:
                with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                    async with asyncio.timeout(OFFLINE_TIMEOUT_S):
                        await client.publish(cfg.availability_topic, OFFLINE, qos=1, retain=True)
                raise

    async def _pump(self, client: aiomqtt.Client) -> None:
        """Send the queue and hand on what arrives, until the connection fails."""
        sender = asyncio.create_task(self._send(client))
        try:
            async for message in client.messages:
                self.status.received += 1
                payload = message.payload
                data = payload if isinstance(payload, bytes) else b"" if payload is None else str(payload).encode()
                try:
                    await self.on_message(str(message.topic), data)
                except Exception:
                    log.exception("MQTT message on %s not handled", message.topic)
                stop_if_cancelled()
        finally:
            await cancel(sender)

    async def _send(self, client: aiomqtt.Client) -> None:
        while True:
            topic, payload, retain = await self._queue.get()
            try:
                await client.publish(topic, payload, qos=0, retain=retain)
                self.status.published += 1
            except aiomqtt.MqttError as exc:  # the receiving side notices a lost connection
                self.status.dropped += 1
                log.info("MQTT publish to %s failed: %s", topic, exc)
            stop_if_cancelled()
