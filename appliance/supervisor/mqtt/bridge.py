"""The appliance on the owner's broker: settings from storage, the link, discovery, state and
commands wired together. Runs in the web server's event loop beside the pilot link."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from pydantic import ValidationError

from appliance import protocol as p
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.mqtt import discovery
from appliance.supervisor.mqtt.commands import CommandHandler
from appliance.supervisor.mqtt.link import LinkConfig, LinkStatus, MqttLink
from appliance.supervisor.mqtt.settings import MqttSettings
from appliance.supervisor.mqtt.state import StatePublisher
from appliance.supervisor.mqtt.topics import Topics
from appliance.supervisor.tasks import cancel

log = logging.getLogger(__name__)
SETTINGS_KEY = "supervisor.mqtt"
TICK_S = 1.0


class MqttBridge:
    def __init__(self, ctx: AppContext, on_control: Callable[[], None]) -> None:
        self.ctx = ctx
        self.on_control = on_control  # e.g. push a snapshot to the web UI
        self.settings = self._load()
        self.topics = Topics(self.settings.base_topic, self.settings.discovery_prefix)
        self.link: MqttLink | None = None
        self.publisher: StatePublisher | None = None
        self.commands: CommandHandler | None = None
        self._announced: list[tuple[int, str, float]] = []
        self._tick: asyncio.Task[None] | None = None

    def _load(self) -> MqttSettings:
        saved = self.ctx.storage.settings.get_value(SETTINGS_KEY)
        settings = MqttSettings()
        if saved is not None:
            try:
                settings = MqttSettings.model_validate(saved)
            except ValidationError as exc:
                log.warning("ignoring the saved MQTT settings: %s", exc)
        if self.ctx.mqtt_url is not None:  # the command line's broker wins over the saved one
            settings = settings.with_url(self.ctx.mqtt_url).model_copy(update={"enabled": True})
        return settings

    def status(self) -> LinkStatus:
        return self.link.status if self.link is not None else LinkStatus()

    async def start(self) -> None:
        self.ctx.core.listeners.append(self._on_pilot_message)
        self._tick = asyncio.create_task(self._ticking())
        self._connect()

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.ctx.core.listeners.remove(self._on_pilot_message)
        await cancel(self._tick)
        await self._disconnect()

    async def apply(self, settings: MqttSettings) -> None:
        """A new setting: saved, then the link starts over with it."""
        self.ctx.storage.settings.set_value(SETTINGS_KEY, settings.model_dump(mode="json"), self.ctx.clock())
        await self._disconnect()
        self.settings = settings
        self._connect()

    def _connect(self) -> None:
        broker = self.settings.broker()
        if broker is None:
            return
        topics = Topics(self.settings.base_topic, self.settings.discovery_prefix)
        config = LinkConfig(broker, topics.availability, topics.subscriptions(self.settings.read_only),
                            client_id=f"evse-{topics.node_id}"[:64])
        self.link = link = MqttLink(config, self._connected, self._message)
        self.publisher = StatePublisher(topics, self.ctx.core.snapshot, link.publish, self.ctx.clock)
        self.commands = CommandHandler(self.ctx, topics, self._applied, link.publish)
        self.topics = topics
        link.start()

    async def _disconnect(self) -> None:
        if self.link is not None:
            await self.link.stop()
        self.link = self.publisher = self.commands = None

    def _connected(self) -> None:
        self.publish_discovery()
        if self.publisher is not None:
            self.publisher.forget()
            self.publisher.update()

    def _devices(self) -> list[tuple[int, str, float]]:
        """What discovery says about each station: a change (a new name, rating) sends it again."""
        core = self.ctx.core
        return [(sid, core.settings.station(sid).display_name(), core.settings.station(sid).rating_a)
                for sid in sorted(core.live)]

    def publish_discovery(self) -> None:
        if self.link is None:
            return
        self._announced = self._devices()
        configs = discovery.site_configs(self.topics, self.ctx.version)
        for sid, name, rating_a in self._announced:
            configs += discovery.station_configs(self.topics, sid, name, rating_a, self.ctx.version,
                                                 self.settings.read_only)
        for topic, payload in configs:
            self.link.publish(topic, "" if payload is None else json.dumps(payload))

    async def _message(self, topic: str, payload: bytes) -> None:
        if topic == self.topics.ha_status:
            if payload.strip().lower() == b"online":
                self.publish_discovery()
        elif self.commands is not None:
            await self.commands.handle(topic, payload)

    def _applied(self) -> None:
        self._update()
        self.on_control()

    def _on_pilot_message(self, message: p.Event) -> None:
        """State and fault changes go out at once; telemetry waits for the tick."""
        if not isinstance(message, p.TelemetryEvent):
            self._update()

    def _update(self) -> None:
        if self.publisher is not None and self.link is not None and self.link.status.state == "connected":
            if self._devices() != self._announced:
                self.publish_discovery()
            self.publisher.update()

    async def _ticking(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self._update()
            except Exception:
                log.exception("MQTT state update failed")
