"""Live fan-out to WebSocket clients.

Messages are encoded once and offered to every client's own bounded queue; each client has
its own sender task. A client whose queue is full is dropped (it reconnects and gets a fresh
snapshot), so one phone on bad Wi-Fi never holds up the others or grows the server's memory.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

QUEUE_SIZE = 64


class Subscriber:
    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue(size)
        self.overflowed = asyncio.Event()

    def offer(self, text: str) -> bool:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.overflowed.set()
            return False
        return True


class Hub:
    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self.queue_size = queue_size
        self.clients: set[Subscriber] = set()
        self.dropped = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """The loop the clients live on; publish() from other threads is handed over to it."""
        self._loop = loop

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(self.queue_size)
        self.clients.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.clients.discard(subscriber)

    def publish(self, message: dict[str, Any]) -> None:
        """Safe from any thread; cheap when nobody listens."""
        loop = self._loop
        if loop is None or not self.clients or loop.is_closed():
            return
        text = encode(message)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._deliver(text)
        else:
            loop.call_soon_threadsafe(self._deliver, text)

    def _deliver(self, text: str) -> None:
        for subscriber in list(self.clients):
            if not subscriber.offer(text):
                self.clients.discard(subscriber)
                self.dropped += 1


def encode(message: dict[str, Any]) -> str:
    """JSON that browsers accept: NaN and infinities (a meter glitch) become null."""
    try:
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(message), separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
