"""Topic names under the base topic, in one place for discovery, state and commands."""

from __future__ import annotations

from dataclasses import dataclass

SET = "set"


@dataclass(frozen=True)
class Topics:
    base: str
    discovery_prefix: str

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def error(self) -> str:
        return f"{self.base}/error"

    @property
    def ha_status(self) -> str:
        """Home Assistant says `online` here when it (re)starts."""
        return f"{self.discovery_prefix}/status"

    @property
    def node_id(self) -> str:
        """The base topic as one discovery level (and the prefix of every unique_id)."""
        return self.base.replace("/", "_")

    def station(self, station_id: int, name: str) -> str:
        return f"{self.base}/station/{station_id}/{name}"

    def site(self, name: str) -> str:
        return f"{self.base}/site/{name}"

    def command(self, state_topic: str) -> str:
        return f"{state_topic}/{SET}"

    def config(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{object_id}/config"

    def subscriptions(self, read_only: bool) -> tuple[str, ...]:
        """Home Assistant's status always; the command topics unless MQTT is read-only."""
        commands = (f"{self.base}/station/+/+/{SET}", f"{self.base}/site/limit/{SET}", f"{self.base}/meter/{SET}")
        return (self.ha_status,) + (() if read_only else commands)
