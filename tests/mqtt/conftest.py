"""MQTT fixtures: Debian's mosquitto on a free loopback port, a client that records what the
broker delivers, and the supervisor tests' app on a real core and storage."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from tests.supervisor.conftest import admin, app, bearer, client, core, ctx, storage  # noqa: F401 - the same app

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto process; `restart` keeps the port (and, like a broker without persistence, forgets all)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.config = directory / "mosquitto.conf"
        self.config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert self.proc.poll() is None, "mosquitto exited at start"
                assert time.monotonic() < deadline, "mosquitto never listened"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed (scripts/apt-packages.txt lists it)")
    server = Broker(tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class Received:
    topic: str
    payload: str
    retain: bool


class Recorder:
    """Subscribes to everything and keeps each message, for tests to wait on."""

    def __init__(self, port: int) -> None:
        self.messages: list[Received] = []
        self.lock = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{port}-{id(self)}")
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.2, 1)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(Received(message.topic, message.payload.decode(), bool(message.retain)))
            self.lock.notify_all()

    def last(self, topic: str) -> Received | None:
        with self.lock:
            return next((m for m in reversed(self.messages) if m.topic == topic), None)

    def wait(self, topic: str, check: Callable[[str], bool] = lambda _: True, timeout: float = 20.0,
             after: int = 0) -> Received:
        """The first message on `topic` (from index `after` on) whose payload passes `check`."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                found = next((m for m in self.messages[after:] if m.topic == topic and check(m.payload)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [m.payload for m in self.messages if m.topic == topic][-5:]
                    raise AssertionError(f"nothing on {topic} passed the check in {timeout} s; last: {seen}")
                self.lock.wait(left)

    def mark(self) -> int:
        with self.lock:
            return len(self.messages)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()  # first: paho's loop ends only once nothing is left to send
        self.client.loop_stop()


@pytest.fixture
def recorder(broker: Broker) -> Iterator[Callable[[], Recorder]]:
    made: list[Recorder] = []

    def make() -> Recorder:
        made.append(Recorder(broker.port))
        return made[-1]

    yield make
    for r in made:
        r.close()

