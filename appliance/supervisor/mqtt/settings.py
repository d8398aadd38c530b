"""The MQTT setting: which broker, under which topics, whether commands are taken.

The password is kept apart from the URL so that nothing shown to a user ever carries it:
the API answers `password_set` instead.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMES = {"mqtt": 1883, "mqtts": 8883}
TOPIC_MAX = 120
_TOPIC = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


class Broker(BaseModel):
    """Where to connect, parsed from `mqtt[s]://[USER[:PASS]@]HOST[:PORT]`."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def url(self) -> str:
        """The URL without the password (safe to show and to store beside it)."""
        user = f"{self.username}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{host}:{self.port}"


def parse_url(url: str) -> Broker:
    """ValueError naming what is wrong: scheme, host, port, path."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not an MQTT URL ({exc}); use mqtt[s]://[USER:PASS@]HOST[:PORT]") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(f"the scheme must be mqtt or mqtts, not {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise ValueError("the URL names no host; use mqtt[s]://[USER:PASS@]HOST[:PORT]")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("an MQTT URL has no path, query or fragment; the base topic is a setting of its own")
    if port == 0:
        raise ValueError("port 0 is not a broker's port")
    return Broker(host=parts.hostname, port=port or SCHEMES[parts.scheme], tls=parts.scheme == "mqtts",
                  username=unquote(parts.username) if parts.username else None,
                  password=unquote(parts.password) if parts.password is not None else None)


def default_base_topic() -> str:
    """`evse/<hostname>`, the hostname cut down to what a topic level may hold."""
    host = re.sub(r"[^a-z0-9_-]+", "-", socket.gethostname().lower()).strip("-") or "appliance"
    return f"evse/{host[:60]}"


def check_topic(value: str) -> str:
    if len(value) > TOPIC_MAX or not _TOPIC.match(value):
        raise ValueError(f"a topic of levels of letters, digits, '_' and '-' separated by '/', at most {TOPIC_MAX} "
                         "characters; no wildcards, no empty levels, no leading or trailing '/'")
    return value


class MqttSettings(BaseModel):
    """What is stored; `url` never holds the password."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    url: str | None = None
    password: str | None = None
    base_topic: str = Field(default_factory=default_base_topic)
    discovery_prefix: str = "homeassistant"
    read_only: bool = False

    _topics = field_validator("base_topic", "discovery_prefix")(check_topic)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else parse_url(value).url()

    def broker(self) -> Broker | None:
        """The broker to connect to, or None while disabled or without a URL."""
        if not self.enabled or self.url is None:
            return None
        return parse_url(self.url).model_copy(update={"password": self.password})

    def with_url(self, url: str | None) -> MqttSettings:
        """A new URL; a password in it replaces the stored one, a URL without one keeps it."""
        if url is None:
            return self.model_copy(update={"url": None})
        broker = parse_url(url)
        password = broker.password if broker.password is not None else self.password
        return MqttSettings.model_validate({**self.model_dump(), "url": broker.url(), "password": password})
